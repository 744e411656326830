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

    public init(key: String, channel: Channel, workflow: String, category: String, customerID: String, subjectID: String?,
                recipient: String, recipientName: String?, content: RenderedMessage, date: Date) {
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
    }
}

/// Something that hands messages to a server (or a directory) and says how it went. A
/// transport never throws: every failure becomes a classified outcome with a reason.
public protocol Transport: Sendable {
    func send(_ message: OutgoingMessage) async -> DeliveryOutcome
    /// Releases connections at shutdown.
    func close()
}
