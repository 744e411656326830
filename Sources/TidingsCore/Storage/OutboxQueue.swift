import Foundation

/// What one dispatcher turn claimed, and which channels' endpoints are disabled.
public struct OutboxClaim: Sendable {
    public var messages: [OutboxMessage]
    public var disabled: [Channel: DisabledEndpoint]
    /// Messages this dispatcher claimed that must not go out any more (their customer was
    /// forgotten): dropped from what it holds, unsent.
    public var withdrawn: Set<Int64>
    /// Results just recorded for messages whose contents were erased meanwhile: what a
    /// transport kept of them (a spool file) goes too.
    public var erased: [Channel: [String]]

    public init(messages: [OutboxMessage], disabled: [Channel: DisabledEndpoint], withdrawn: Set<Int64> = [], erased: [Channel: [String]] = [:]) {
        self.messages = messages
        self.disabled = disabled
        self.withdrawn = withdrawn
        self.erased = erased
    }
}

/// The outbox as the dispatcher sees it: claim due messages under a lease, record what came of
/// each attempt, put the claims of a dead run back. The dispatcher knows nothing else of the
/// database. Async, so that a network database can conform without blocking a thread.
public protocol OutboxQueue: Sendable {
    /// Records what finished (disabling an endpoint that answered 410 Gone), gives back the
    /// claims in `releasing` unsent (as if never claimed) and claims what each channel has room
    /// for, for `owner`, in one transaction.
    func settleAndClaim(_ records: [DeliveryRecord], releasing: [Int64], room: [Channel: Int], endpoints: [Channel: String], now: Date,
                        lease: TimeInterval, owner: String) async throws -> OutboxClaim
    func record(_ records: [DeliveryRecord], now: Date) async throws
    /// Puts back, due at once, the claims left by a run that died mid-send.
    func releaseInterruptedClaims(now: Date) async throws -> Int
    /// Tells the other instances sending from this outbox what this one's breakers did, and
    /// learns how many dispatchers are alive and which channels are paused. Nil where one
    /// dispatcher owns the outbox (SQLite): its gates alone hold.
    func shareFlow(_ report: FlowReport, owner: String, now: Date) async throws -> SharedFlow?
    /// Per unit of a channel's concurrency: how many messages a running dispatcher claims
    /// ahead, and how many of its sends may be in flight or finished but not yet recorded (what
    /// a crash sends again, with the same keys). Four unless the backend says otherwise.
    var windowPerSlot: Int { get }
}

extension OutboxQueue {
    public func shareFlow(_ report: FlowReport, owner: String, now: Date) async throws -> SharedFlow? { nil }

    /// Four: enough that sends do not wait for a write, few enough that a message claimed
    /// after them (an acknowledgement, where the pipeline does not hand those over) waits for
    /// little, and that one of several instances sharing the outbox does not take a whole
    /// backlog to itself.
    public var windowPerSlot: Int { 4 }
}
