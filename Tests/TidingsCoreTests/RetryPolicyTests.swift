import Foundation
import Testing
@testable import TidingsCore

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test func backsOffExponentiallyWithinItsCapAndGivesUp() throws {
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: 10, maximumDelay: 60)
        let now = Fixtures.t0
        let delays = try (1...4).map { try #require(policy.nextAttempt(afterAttempts: $0, now: now, jitter: 0.5)).timeIntervalSince(now) }
        #expect(delays == [10, 20, 40, 60])
        #expect(policy.nextAttempt(afterAttempts: 5, now: now, jitter: 0.5) == nil)
        #expect(policy.nextAttempt(afterAttempts: 1, now: now, jitter: 0)!.timeIntervalSince(now) == 8)
        #expect(policy.nextAttempt(afterAttempts: 1, now: now, jitter: 0.5, retryAfter: 120)!.timeIntervalSince(now) == 120)
    }
}
