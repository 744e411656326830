import Foundation

/// The numbers `tidings status` prints.
public struct StoreStatus: Sendable, Hashable {
    public var head: Int64
    public var checkpoint: Int64
    public var lag: Int64 { max(0, head - checkpoint) }
    /// Message counts by state and channel ("-" for messages with no channel).
    public var outbox: [MessageState: [String: Int]]
    /// Messages due now (pending or retrying), or in flight.
    public var busy: Int
    /// Deadline timers running, and how many of them are due but not yet fired.
    public var timers = 0
    public var timersDue = 0
    /// Orders a disruption affects that are still to be told.
    public var fanoutPending = 0
    /// Events set aside by the pipeline, by kind (`tidings events`).
    public var held: [HeldEvent.Kind: Int] = [:]
    /// `tidings append`s still writing: their events (and all after them) are not read yet.
    public var appending = 0

    public init(head: Int64, checkpoint: Int64, outbox: [MessageState: [String: Int]], busy: Int, timers: Int = 0, timersDue: Int = 0,
                fanoutPending: Int = 0, held: [HeldEvent.Kind: Int] = [:], appending: Int = 0) {
        self.head = head
        self.checkpoint = checkpoint
        self.outbox = outbox
        self.busy = busy
        self.timers = timers
        self.timersDue = timersDue
        self.fanoutPending = fanoutPending
        self.held = held
        self.appending = appending
    }

    public var quarantined: Int { held[.quarantined] ?? 0 }

    public func count(_ state: MessageState) -> Int { outbox[state]?.values.reduce(0, +) ?? 0 }

    /// A state's messages by channel, as people read them: `email 23, sms 3`.
    public func byChannel(_ state: MessageState) -> String {
        (outbox[state] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// Caught up and nothing due or in flight.
    public var isIdle: Bool { lag == 0 && busy == 0 && timersDue == 0 && fanoutPending == 0 && appending == 0 }
}

/// What operators see of a backend at a glance: `/metrics`, `/readyz`, the systemd status
/// line. Both backends answer it.
public protocol StatusSource: Sendable {
    func status(now: Date) async throws -> StoreStatus
    /// Whether the database takes writes now: false while it is locked up, full, or unreachable.
    func isWritable() async -> Bool
}
