import Foundation

/// A message claimed for sending.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var workflow: String
    public var category: String
    public var customerID: String
    public var subjectID: String?
    public var template: String
    public var locale: String
    /// The template context as stored, parsed where the message is rendered (`parsedContext`):
    /// parsed in the claim, it held the writer for a quarter of the claim's time, while the
    /// dispatcher renders its messages on other threads. Messages compare by these bytes.
    public var storedContext: Data
    /// Attempts on every route so far, this one included.
    public var totalAttempts: Int
    /// When the event behind it was recorded: where its latency starts.
    public var eventAt: Date?
    /// Where the state machine has it: claimed, on its current route.
    public var progress: DeliveryProgress
    /// Which claimed messages go first when a channel has no room for all.
    public var priority: ClaimPriority
    /// The key of the first email to the customer about the same order or ticket, when this
    /// one is a later email: it answers that one, so mail clients show one conversation.
    public var threadRoot: String?

    /// The context, parsed afresh at every call: once per send. Null when the stored bytes do
    /// not parse, so that one unreadable context fails only its own message.
    public func parsedContext() -> JSONValue { (try? JSONValue.parse(storedContext)) ?? .null }

    public var channel: Channel { progress.route.channel }
    public var recipient: String { progress.route.recipient }

    public init(id: Int64, key: String, workflow: String, category: String, customerID: String, subjectID: String?, template: String,
                locale: String, storedContext: Data, totalAttempts: Int, eventAt: Date?, progress: DeliveryProgress,
                priority: ClaimPriority = .normal, threadRoot: String? = nil) {
        self.id = id
        self.key = key
        self.workflow = workflow
        self.category = category
        self.customerID = customerID
        self.subjectID = subjectID
        self.template = template
        self.locale = locale
        self.storedContext = storedContext
        self.totalAttempts = totalAttempts
        self.eventAt = eventAt
        self.progress = progress
        self.priority = priority
        self.threadRoot = threadRoot
    }
}

/// The result of one attempt, and where it leaves the message.
public struct DeliveryRecord: Sendable, Hashable {
    public var message: OutboxMessage
    public var outcome: DeliveryOutcome
    public var next: DeliveryProgress

    public init(message: OutboxMessage, outcome: DeliveryOutcome, next: DeliveryProgress) {
        self.message = message
        self.outcome = outcome
        self.next = next
    }
}

/// An endpoint that answered 410 Gone: nothing goes to it until an operator enables it again.
public struct DisabledEndpoint: Sendable, Hashable {
    public var channel: Channel
    public var target: String
    public var since: Date
    public var reason: String

    public init(channel: Channel, target: String, since: Date, reason: String) {
        self.channel = channel
        self.target = target
        self.since = since
        self.reason = reason
    }
}

