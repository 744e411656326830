import Foundation

/// What becomes of a new intent in the outbox, decided before a backend writes it: pending,
/// skipped with its reason, or parked while its customer is unknown. A proactive delay alert
/// asks the backend one question first (`toldSince`: was the customer told of a delay since
/// this event?), and takes the answer with `told(_:)`. Every backend writes what this says.
public struct OutboxPlacement: Sendable, Hashable {
    public var state: MessageState
    /// When it may go out, in seconds since 1970.
    public var dueAt: Double
    public var note: String?
    /// The position from which a delivered or underway delay notice makes this alert redundant.
    public private(set) var toldSince: Int64?

    public init(_ intent: NotificationIntent, now: Double, customerWait: TimeInterval) {
        state = intent.channel == nil ? .skipped : .pending
        note = intent.skipReason
        dueAt = intent.notBefore.map { max(now, $0.timeIntervalSince1970) } ?? now
        if intent.awaitingCustomer {
            state = .parked
            dueAt = now + customerWait
            note = "waiting for customer \(intent.customerID) to be registered, until \(Timestamp.format(Date(timeIntervalSince1970: dueAt)))"
        } else if state == .pending {
            toldSince = intent.redundantIfToldSince
        }
    }

    /// The answer to `toldSince`: the reason it is redundant, or nil.
    public mutating func told(_ reason: String?) {
        toldSince = nil
        guard let reason else { return }
        state = .skipped
        note = reason
    }

    /// Why a delay alert is redundant: the delay notice `messageID` was sent at `sentAt`, or is
    /// still `state` on its way.
    public static func alreadyTold(messageID: Int64, sentAt: Double?, state: String) -> String {
        if let sentAt {
            return "already told about a delay to this order: message \(messageID), sent at \(Timestamp.format(Date(timeIntervalSince1970: sentAt)))"
        }
        return "already being told about a delay to this order: message \(messageID) is \(state)"
    }

    /// Why a key already in the outbox stops the event: it belongs to another message, which
    /// would otherwise be dropped quietly.
    public static func keyConflict(_ intent: NotificationIntent, messageID: Int64, workflow: String, position: Int64) -> String? {
        guard workflow != intent.workflow || position != intent.eventPosition else { return nil }
        return """
            the message key \(intent.key) of workflow \(intent.workflow) for the event at position \(intent.eventPosition) \
            is already message \(messageID) (workflow \(workflow), event at position \(position))
            """
    }

    /// Why a parked message was skipped when its wait ran out, around the customer's id (the
    /// backends join them in SQL, for every such message at once).
    public static let parkExpired = (before: "customer ", after: " was still not known when the wait ended (pipeline.park_window): no address to send to")

    /// Why a parked message that could not be routed was skipped.
    public static func unroutable(customerID: String, error: any Error) -> String {
        "could not be routed when customer \(customerID) became known: \(error)"
    }

    /// Why unsent messages about the same order were made stale.
    public static func supersededNote(workflow: String, eventType: String) -> String {
        "superseded by \(workflow) (\(eventType))"
    }

    /// Whether a new message of this intent makes the unsent ones about its order stale: only an
    /// order-status message about one order. A message about several orders is no status of
    /// any one of them.
    public static func supersedes(_ intent: NotificationIntent) -> Bool {
        DisruptionScope.covered(by: intent.context).isEmpty && intent.category.canBeSuperseded && intent.subjectID != nil
    }
}
