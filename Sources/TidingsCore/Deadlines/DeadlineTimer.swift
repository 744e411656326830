import Foundation

/// A promise with a time on it: when `dueAt` passes, the clock appends an event of `type` about
/// `subject`. A subject has at most one timer of each type.
public struct DeadlineTimer: Sendable, Hashable {
    public var type: String
    public var subject: String
    public var dueAt: Date

    public init(type: String, subject: String, dueAt: Date) {
        self.type = type
        self.subject = subject
        self.dueAt = dueAt
    }

    /// The id of the event the clock appends. The same timer always gives the same id, and the
    /// log keeps `(source, id)` unique, so a timer fires once however often it is fired.
    public var eventID: String { "\(type)/\(subject)/\(Timestamp.format(dueAt))" }

    /// The deadline event, as the clock appends it: its time is the deadline, not the moment
    /// the clock got round to it, so a late clock tells the same story.
    public var event: CloudEvent {
        CloudEvent(id: eventID, source: Deadlines.source, type: type, subject: subject, time: dueAt,
                   data: ["due_at": .string(Timestamp.format(dueAt))])
    }
}

/// What an event does to the timers: start one, or stop one that is running. A cancel with
/// `dueAt` stops the timer only while it is still due then (a deadline event consumes its own
/// timer, never the one that replaced it).
public enum TimerAction: Sendable, Hashable {
    case schedule(DeadlineTimer)
    case cancel(type: String, subject: String, dueAt: Date? = nil)
}
