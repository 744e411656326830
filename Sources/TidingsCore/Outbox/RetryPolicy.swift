import Foundation

/// When to try a transiently failed message again. Pure: the caller passes the clock and the
/// randomness, so every schedule is testable without waiting.
public struct RetryPolicy: Sendable, Hashable {
    public enum Backoff: Sendable, Hashable {
        /// Fixed delays before each retry, in order; when they run out, the message gives up.
        case schedule([TimeInterval])
        /// Doubling delays from `initial`, capped at `maximum`.
        case exponential(initial: TimeInterval, maximum: TimeInterval)
    }

    public var backoff: Backoff
    /// Attempts on one route before giving up, the first one included.
    public var maxAttempts: Int?
    /// Give up when the next attempt would come later than this after the route's first attempt.
    public var giveUpAfter: TimeInterval?

    /// A `Retry-After` is honoured up to this, so a server cannot park a message for a year.
    public static let longestRetryAfter: TimeInterval = 86_400

    public init(backoff: Backoff, maxAttempts: Int? = nil, giveUpAfter: TimeInterval? = nil) {
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.giveUpAfter = giveUpAfter
    }

    public init(maxAttempts: Int, initialDelay: TimeInterval, maximumDelay: TimeInterval) {
        self.init(backoff: .exponential(initial: initialDelay, maximum: maximumDelay), maxAttempts: maxAttempts)
    }

    /// Webhooks: the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h),
    /// stretched by two daily tries to about three days in all.
    public static let webhook = RetryPolicy(backoff: .schedule([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 86_400, 86_400]))

    /// Email: like a mail server's queue (Postfix: 5 min doubling to about an hour), giving up
    /// after five days.
    public static let email = RetryPolicy(backoff: .exponential(initial: 300, maximum: 3_600), giveUpAfter: 5 * 86_400)

    /// The delay after `attempts` attempts, before jitter; nil when the schedule has run out.
    public func delay(afterAttempts attempts: Int) -> TimeInterval? {
        if let maxAttempts, attempts >= maxAttempts { return nil }
        switch backoff {
        case .schedule(let delays):
            return delays.indices.contains(attempts - 1) ? delays[attempts - 1] : nil
        case .exponential(let initial, let maximum):
            return min(maximum, initial * pow(2, Double(min(62, max(0, attempts - 1)))))
        }
    }

    /// The next attempt's time after `attempts` attempts on a route first tried at `startedAt`,
    /// or nil when it is time to give up. `jitter` in 0...1 spreads retries by ±20% so a
    /// recovering server is not hit all at once.
    public func nextAttempt(afterAttempts attempts: Int, startedAt: Date? = nil, now: Date, jitter: Double,
                            retryAfter: TimeInterval? = nil) -> Date? {
        guard let nominal = delay(afterAttempts: attempts) else { return nil }
        let spread = nominal * (0.8 + 0.4 * min(1, max(0, jitter)))
        let due = now.addingTimeInterval(max(spread, min(retryAfter ?? 0, Self.longestRetryAfter)))
        if let giveUpAfter, due.timeIntervalSince(startedAt ?? now) > giveUpAfter { return nil }
        return due
    }

    /// How long the whole schedule lasts, without jitter (for `tidings check`).
    public var span: TimeInterval? {
        if let giveUpAfter { return giveUpAfter }
        guard case .schedule(let delays) = backoff else {
            return maxAttempts.map { count in (1..<max(1, count)).reduce(0) { $0 + (delay(afterAttempts: $1) ?? 0) } }
        }
        return delays.prefix(maxAttempts.map { max(0, $0 - 1) } ?? delays.count).reduce(0, +)
    }
}
