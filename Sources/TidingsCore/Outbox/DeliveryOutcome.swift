import Foundation

/// What one attempt to hand a message to its server came to.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The server accepted it; the detail is its reply (an SMTP queue id, an HTTP status).
    case sent(detail: String)
    /// Worth trying again: the server was away, busy or said "later".
    case transient(reason: String, retryAfter: TimeInterval? = nil)
    /// Trying again will not help: the server refused it for good.
    case permanent(reason: String)
    /// The endpoint itself is gone (HTTP 410): permanent for this message, and the endpoint is
    /// disabled until an operator enables it again.
    case gone(reason: String)

    public var label: String {
        switch self {
        case .sent: return "sent"
        case .transient: return "transient"
        case .permanent: return "permanent"
        case .gone: return "gone"
        }
    }

    /// Every label, in the order of `index`.
    public static let labels = [DeliveryOutcome.sent(detail: ""), .transient(reason: ""), .permanent(reason: ""), .gone(reason: "")].map(\.label)

    /// The outcome's place in `labels`: for a table of one metric per outcome.
    public var index: Int {
        switch self {
        case .sent: 0
        case .transient: 1
        case .permanent: 2
        case .gone: 3
        }
    }

    public var detail: String {
        switch self {
        case .sent(let detail): return detail
        case .transient(let reason, _), .permanent(let reason), .gone(let reason): return reason
        }
    }
}

/// The states a message moves through in the outbox (see `OutboxStateMachine`).
public enum MessageState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting for its first attempt on its current channel.
    case pending
    /// Claimed by a dispatcher, with a lease that expires if the process dies mid-send.
    case sending
    case sent
    /// A transient failure: waiting until `due_at` to try again.
    case retrying
    /// Given up on every channel it could use; the reason and the history are kept.
    case dead
    /// Not sent because a later status of the same order made it stale.
    case suppressed
    /// Never sendable: no usable channel, or the customer opted out. Kept for the history.
    case skipped
    /// Its provider reported that it reached the customer (`Receipt`).
    case delivered
    /// Its provider reported that it did not arrive, and there was no other channel to try.
    case bounced
    /// Waiting for its customer to become known (their registration may come from another
    /// producer, after the order); `due_at` is when waiting ends and it is skipped instead.
    case parked

    /// States from which a message can still go out.
    public var isOpen: Bool { self == .pending || self == .sending || self == .retrying }

    /// Queued and not yet claimed: what a claim takes once due, and what a later status of the
    /// same order makes stale (`OutboxStateMachine.isClaimable`, `suppress`).
    public static let unsent: [MessageState] = [.pending, .retrying]

    /// What an operator may send again (`OutboxStateMachine.retry`).
    public static let retryable: [MessageState] = [.dead]

    /// A message in one of these was delivered or is on its way to be: the only kind that may
    /// make another one redundant (a message is suppressed or skipped only because of one that
    /// was, or will be, delivered).
    public static let deliveredOrUnderway: [MessageState] = [.sent, .delivered, .sending, .pending, .retrying]

    /// Accepted by its server: a receipt can still say what became of it.
    public static let accepted: [MessageState] = [.sent, .delivered]
}
