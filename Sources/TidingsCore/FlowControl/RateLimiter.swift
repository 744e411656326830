import Foundation

/// A token bucket: at most `rate` sends per second on average, with bursts of up to `burst`.
/// Pure: the caller passes the clock.
public struct RateLimiter: Sendable, Hashable {
    public private(set) var rate: Double
    public private(set) var burst: Double
    /// The limit as configured, for the channel as a whole; `rate` and `burst` are this
    /// instance's share of it.
    public let configuredRate: Double
    public let configuredBurst: Double
    private var tokens: Double
    private var updatedAt: Date?

    public init(perSecond rate: Double, burst: Int? = nil) {
        self.rate = max(rate, 0.001)
        self.burst = Double(max(1, burst ?? Int(rate.rounded(.up))))
        configuredRate = self.rate
        configuredBurst = self.burst
        tokens = self.burst
    }

    /// Takes an equal share of the configured limit with `instances` dispatchers sending on
    /// the same channel, so that together they stay within it; a burst never below one send.
    public mutating func share(among instances: Int, now: Date) {
        refill(now: now)
        let count = Double(max(1, instances))
        rate = configuredRate / count
        burst = max(1, (configuredBurst / count).rounded(.down))
        tokens = min(tokens, burst)
    }

    /// Whole sends allowed now.
    public mutating func available(now: Date) -> Int {
        refill(now: now)
        return Int(tokens.rounded(.down))
    }

    public mutating func take(_ count: Int, now: Date) {
        refill(now: now)
        tokens -= Double(count)
    }

    /// When the next send will be allowed, if none is now.
    public func nextToken(now: Date) -> Date? {
        var copy = self
        copy.refill(now: now)
        guard copy.tokens < 1 else { return nil }
        return now.addingTimeInterval((1 - copy.tokens) / rate)
    }

    private mutating func refill(now: Date) {
        guard let updatedAt else {
            self.updatedAt = now
            return
        }
        guard now > updatedAt else { return }
        tokens = min(burst, tokens + now.timeIntervalSince(updatedAt) * rate)
        self.updatedAt = now
    }
}
