import TidingsCore

/// A transport that hands each request to a `CurlWorker` and answers on its queue (SMTP, the
/// webhooks). It says only how to start a send; waiting for one, and starting one the
/// dispatcher's loop can take back, follow from that.
public protocol CurlTransport: Transport {
    /// Starts the send; `done` gets its outcome once, on the worker's queue, or nil when the
    /// worker gave it back unsent, which a send that may not go back (`mayGiveBack` false)
    /// never is unless the worker is giving everything back (`giveBack()`).
    func start(_ message: OutgoingMessage, mayGiveBack: Bool, then done: @escaping @Sendable (DeliveryOutcome?) -> Void)
}

extension CurlTransport {
    /// For callers that cannot take a send back (`drain`, tools): it waits for a connection.
    public func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
        await send(message, mayGiveBack: false) ?? .transient(reason: "not sent: the transport was stopping")
    }

    /// The dispatcher's loop takes back what the worker held too long.
    public func start(_ message: OutgoingMessage, then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
        start(message, mayGiveBack: true, then: done)
    }

    /// Nil when the worker gave the request back unsent.
    func send(_ message: OutgoingMessage, mayGiveBack: Bool) async -> DeliveryOutcome? {
        await withCheckedContinuation { continuation in
            start(message, mayGiveBack: mayGiveBack) { continuation.resume(returning: $0) }
        }
    }
}
