import Foundation
import TidingsCore

/// A rendered message on its way to one recipient.
public struct OutgoingMessage: Sendable {
    public var key: String
    public var channel: Channel
    public var workflow: String
    public var category: String
    public var customerID: String
    public var subjectID: String?
    public var recipient: String
    public var recipientName: String?
    public var content: RenderedMessage
    public var date: Date
    /// The key of the email this one answers (`OutboxMessage.threadRoot`).
    public var threadRoot: String?

    public init(key: String, channel: Channel, workflow: String, category: String, customerID: String, subjectID: String?,
                recipient: String, recipientName: String?, content: RenderedMessage, date: Date, threadRoot: String? = nil) {
        self.key = key
        self.channel = channel
        self.workflow = workflow
        self.category = category
        self.customerID = customerID
        self.subjectID = subjectID
        self.recipient = recipient
        self.recipientName = recipientName
        self.content = content
        self.date = date
        self.threadRoot = threadRoot
    }
}

/// Something that hands messages to a server (or a directory) and says how it went. A
/// transport never throws: every failure becomes a classified outcome with a reason.
public protocol Transport: Sendable {
    func send(_ message: OutgoingMessage) async -> DeliveryOutcome
    /// Releases connections at shutdown.
    func close()
    /// Drops what the transport kept of these messages (their customer was forgotten).
    func erase(keys: [String])
    /// How many sends beyond the channel's concurrency it takes and holds until a connection
    /// frees, to start each the moment one does (`CurlWorker`).
    var holds: Int { get }
    /// Gives back every message it holds and has not started (the dispatcher is stopping).
    func giveBack()
    /// Starts the send and returns at once; `done` gets its outcome exactly once, on any thread,
    /// or nil when the message went back unsent: one held for a connection that waited too
    /// long, or held when `giveBack()` was called. The curl transports answer on their worker's
    /// queue, so the dispatcher's loop has no task waiting per send.
    func start(_ message: OutgoingMessage, then done: @escaping @Sendable (DeliveryOutcome?) -> Void)
}

extension Transport {
    /// Most transports keep nothing once a message is handed over.
    public func erase(keys: [String]) {}

    /// Most transports send at once: sends beyond their concurrency would only wait.
    public var holds: Int { 0 }

    public func giveBack() {}

    /// A task per send, for transports that have no queue of their own and give nothing back.
    public func start(_ message: OutgoingMessage, then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
        Task { done(await send(message)) }
    }
}
