/// Which due messages a dispatcher takes first when more are due than it has room for: a
/// backlog of shipped notices must never hold up a complaint's acknowledgement or an apology
/// for a promise the shop broke. Stored with each message; the claim query is built from
/// `allCases`, so the order lives here alone.
public enum ClaimPriority: Int, Sendable, Hashable, CaseIterable, Comparable {
    /// Acknowledgements, and what a missed deadline caused (apologies, staff alerts).
    case first = 0
    /// Confirmations, status updates, disruption alerts.
    case normal = 1
    /// Follow-ups, which can wait for the rest.
    case last = 2

    public init(category: Workflow.Category, eventType: String) {
        if category == .acknowledgement || Deadlines.types.contains(eventType) {
            self = .first
        } else if category == .followUp {
            self = .last
        } else {
            self = .normal
        }
    }

    public static func < (lhs: ClaimPriority, rhs: ClaimPriority) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension OutboxMessage {
    /// The order claimed messages are sent in: by priority, then oldest first.
    public static func sendsBefore(_ lhs: OutboxMessage, _ rhs: OutboxMessage) -> Bool {
        (lhs.priority, lhs.id) < (rhs.priority, rhs.id)
    }
}
