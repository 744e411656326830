import Foundation

/// One message as `tidings deliveries list` shows it.
public struct MessageSummary: Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var workflow: String
    public var customerID: String
    public var subjectID: String?
    public var channel: String?
    public var recipient: String?
    public var state: MessageState
    public var attempts: Int
    public var createdAt: Date
    public var sentAt: Date?
    public var lastError: String?

    public init(id: Int64, key: String, workflow: String, customerID: String, subjectID: String?, channel: String?, recipient: String?,
                state: MessageState, attempts: Int, createdAt: Date, sentAt: Date?, lastError: String?) {
        self.id = id
        self.key = key
        self.workflow = workflow
        self.customerID = customerID
        self.subjectID = subjectID
        self.channel = channel
        self.recipient = recipient
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.lastError = lastError
    }
}

/// A suppressed address and whose it is.
public struct SuppressedAddress: Sendable, Hashable {
    public var customerID: String
    public var suppression: Suppression

    public init(customerID: String, suppression: Suppression) {
        self.customerID = customerID
        self.suppression = suppression
    }
}

/// The message a receipt is about, as a receipt endpoint needs it: whose it is and where it went.
public struct ReceiptTarget: Sendable, Hashable {
    public var key: String
    public var customerID: String
    public var channel: Channel
    public var recipient: String
    public var state: MessageState

    public init(key: String, customerID: String, channel: Channel, recipient: String, state: MessageState) {
        self.key = key
        self.customerID = customerID
        self.channel = channel
        self.recipient = recipient
        self.state = state
    }
}

/// What the HTTP API reads of the models and the outbox, and the operator's retry: both
/// backends answer it.
public protocol ReadQueries: ConsoleQueries {
    func order(id: String) async throws -> Order?
    func ticket(id: String) async throws -> Ticket?
    func customer(id: String) async throws -> Customer?
    /// Messages, oldest first, filtered; `after` pages by id; `subjectID` also finds the
    /// messages about several orders that name it.
    func messages(state: MessageState?, customerID: String?, subjectID: String?, id: Int64?, after: Int64?, limit: Int) async throws
        -> [MessageSummary]
    /// The addresses closed by a hard bounce or a complaint, of one channel or all.
    func suppressions(channel: Channel?, customerID: String?) async throws -> [SuppressedAddress]
    /// The message a receipt names, by its key.
    func receiptTarget(key: String) async throws -> ReceiptTarget?
    /// Messenger messages to a person accepted at or before `watermark` and not yet known as
    /// delivered (a delivery notification covers everything before its watermark).
    func messengerSent(to recipient: String, before watermark: Date, limit: Int) async throws -> [ReceiptTarget]
    /// For the status page: events recorded and messages sent since a moment, tickets not yet
    /// resolved, held events of a kind, and what receipts said per channel and workflow.
    func throughput(since: Date) async throws -> (events: Int, sent: Int)
    func openTickets(limit: Int) async throws -> [Ticket]
    func heldEvents(kind: HeldEvent.Kind?, limit: Int) async throws -> [HeldEvent]
    func deliveryRates() async throws -> [DeliveryRate]
    /// Puts dead messages (one, or all) back in the queue; returns how many. Recorded as an
    /// `OperatorAction` in the same transaction.
    func retry(messageID: Int64?, now: Date, by actor: OperatorAction.Actor) async throws -> Int
    /// A message's attempts and receipts, oldest first (`tidings deliveries show`).
    func attempts(messageID: Int64) async throws -> [AttemptSummary]
    /// Every endpoint disabled after a 410, and enabling a channel's again (`tidings endpoints`).
    func disabledEndpoints() async throws -> [DisabledEndpoint]
    func enableEndpoints(channel: Channel, now: Date, by actor: OperatorAction.Actor) async throws -> Int
}

extension ReadQueries {
    public func message(byID id: Int64) async throws -> MessageSummary? {
        try await messages(state: nil, customerID: nil, subjectID: nil, id: id, after: nil, limit: 1).first
    }
}
