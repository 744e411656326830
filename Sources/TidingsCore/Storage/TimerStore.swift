import Foundation

/// A timer as `tidings status` shows the next one.
public struct ScheduledTimer: Sendable, Hashable {
    public var type: String
    public var subject: String
    public var dueAt: Date

    public init(type: String, subject: String, dueAt: Date) {
        self.type = type
        self.subject = subject
        self.dueAt = dueAt
    }
}

/// What one firing did: timers taken, and deadline events new to the log (a timer started
/// again after its event was appended fires into the existing event).
public struct TimerFiring: Sendable, Hashable {
    public var timers: Int
    public var appended: Int

    public init(timers: Int, appended: Int) {
        self.timers = timers
        self.appended = appended
    }
}

/// Deadline timers and the simulated clock, as the clock service uses them.
public protocol TimerStore: Sendable {
    /// Appends the deadline event of every timer due by `now` and removes the timer, together.
    func fireDueTimers(now: Date, limit: Int) async throws -> TimerFiring
    func nextTimer() async throws -> ScheduledTimer?
    /// The simulated time (`clock.source: database`), and the one the daemon took up.
    func simulatedTime() async throws -> Date?
    func acknowledgeSimulatedTime(_ time: Date) async throws
}
