import TidingsCore

/// A transport that hands each request to its `CurlWorkerPool` and answers on a worker's queue
/// (SMTP, the webhooks). It says only how to start a send and which workers it has; waiting for
/// a send, starting one the dispatcher's loop can take back, what it holds, giving back and
/// closing follow from that.
public protocol CurlTransport: Transport {
    var workers: CurlWorkerPool { get }

    /// Starts the send; `done` gets its outcome once, on the worker's queue, or nil when the
    /// worker gave it back unsent, which a send that may not go back (`mayGiveBack` false)
    /// never is unless the worker is giving everything back (`giveBack()`).
    func start(_ message: OutgoingMessage, mayGiveBack: Bool, then done: @escaping @Sendable (DeliveryOutcome?) -> Void)
}

extension CurlTransport {
    /// As many as it has connections: each worker starts the next it holds on the connection one
    /// of its transfers frees (a held send waits for its own worker's connections).
    public var holds: Int { workers.connections }

    public func giveBack() { workers.giveBack() }

    public func close() { workers.close() }

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
