import Foundation

/// A token bucket: at most `rate` sends per second on average, with bursts of up to `burst`.
/// Pure: the caller passes the clock.
public struct RateLimiter: Sendable, Hashable {
    public var rate: Double
    public var burst: Double
    private var tokens: Double
    private var updatedAt: Date?

    public init(perSecond rate: Double, burst: Int? = nil) {
        self.rate = max(rate, 0.001)
        self.burst = Double(max(1, burst ?? Int(rate.rounded(.up))))
        tokens = self.burst
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
