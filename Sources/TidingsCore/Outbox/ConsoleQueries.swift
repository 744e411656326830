import Foundation

/// What the support console reads besides the `/v1` reads: a customer found by an address,
/// their orders and tickets (whose timelines are the events about them), and what a message
/// was rendered from. Both backends answer it.
public protocol ConsoleQueries: Sendable {
    /// Customers whose email (without regard to ASCII case) or phone is `contact`.
    func customers(withContact contact: String, limit: Int) async throws -> [Customer]
    /// A customer's orders and tickets, newest first.
    func orders(customerID: String, limit: Int) async throws -> [Order]
    func tickets(customerID: String, limit: Int) async throws -> [Ticket]
    /// The message with this key, if there is one (whatever its state or channel).
    func messageID(key: String) async throws -> Int64?
    /// What a message is rendered from; nil for an unknown id, or one whose content was erased
    /// (`tidings forget`, retention).
    func messageContent(id: Int64) async throws -> MessageContent?
    /// Acknowledgements accepted by their server whose event was recorded since `since`,
    /// newest first: the console's latency chart.
    func acknowledgements(since: Date, limit: Int) async throws -> [ResponseReport.Acknowledgement]
    /// The deadline timers still running for these orders and tickets, soonest first.
    func timers(subjects: [String]) async throws -> [DeadlineTimer]
    /// A customer's unsent messages (pending or retrying) due after `now`: held for their quiet
    /// hours, or waiting for a next try. Soonest first.
    func heldMessages(customerID: String, after now: Date, limit: Int) async throws -> [HeldMessage]
    /// The tickets changed most recently: the console's promise chart.
    func recentTickets(limit: Int) async throws -> [Ticket]
    /// A customer's or an order's or ticket's messages (as `messages(subjectID:)` finds them),
    /// newest first, with ids below `before`: the console's timeline pages back from the latest.
    func latestMessages(customerID: String?, subjectID: String?, before: Int64?, limit: Int) async throws -> [MessageSummary]
    /// The operators' retries and enables, newest first.
    func operatorActions(limit: Int) async throws -> [OperatorAction]
}

/// An unsent message and when it is due.
public struct HeldMessage: Sendable, Hashable {
    public var id: Int64
    public var workflow: String
    public var channel: String?
    public var dueAt: Date

    public init(id: Int64, workflow: String, channel: String?, dueAt: Date) {
        self.id = id
        self.workflow = workflow
        self.channel = channel
        self.dueAt = dueAt
    }
}

/// A message's template, channel, locale and the context frozen when its event happened: the
/// console renders it as the customer saw it.
public struct MessageContent: Sendable, Hashable {
    public var template: String
    public var channel: Channel?
    public var locale: String
    public var context: JSONValue

    public init(template: String, channel: Channel?, locale: String, context: JSONValue) {
        self.template = template
        self.channel = channel
        self.locale = locale
        self.context = context
    }
}
