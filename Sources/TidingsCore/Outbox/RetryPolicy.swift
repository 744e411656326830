import Foundation

/// When to try a transiently failed message again: exponential backoff with jitter, capped,
/// for a limited number of attempts. Pure: the caller passes the clock and the randomness.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialDelay: TimeInterval
    public var maximumDelay: TimeInterval

    public init(maxAttempts: Int = 8, initialDelay: TimeInterval = 30, maximumDelay: TimeInterval = 3600) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The next attempt's time after `attempts` attempts, or nil when they are used up.
    /// `jitter` in 0...1 spreads retries so a recovering server is not hit all at once.
    public func nextAttempt(afterAttempts attempts: Int, now: Date, jitter: Double, retryAfter: TimeInterval? = nil) -> Date? {
        guard attempts < maxAttempts else { return nil }
        let exponential = initialDelay * pow(2, Double(max(0, attempts - 1)))
        let delay = min(maximumDelay, exponential) * (0.8 + 0.4 * min(1, max(0, jitter)))
        return now.addingTimeInterval(max(delay, retryAfter ?? 0))
    }
}
