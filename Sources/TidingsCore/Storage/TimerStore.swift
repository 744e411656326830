import Foundation

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
    /// The timer that falls due first, if any.
    func nextTimer() async throws -> DeadlineTimer?
    /// The simulated time (`clock.source: database`), and the one the daemon took up.
    func simulatedTime() async throws -> Date?
    func acknowledgeSimulatedTime(_ time: Date) async throws
    /// `tidings clock set`: moves the simulated time (forward only), and reads back the time a
    /// running daemon took up.
    func setSimulatedTime(_ time: Date) async throws
    func appliedSimulatedTime() async throws -> Date?
}
