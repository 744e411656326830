import Foundation
import Testing
@testable import TidingsCore

@Suite("Retry policy")
struct RetryPolicyTests {
    let now = Fixtures.t0

    func delay(_ policy: RetryPolicy, after attempts: Int, startedAt: Date? = nil, jitter: Double = 0.5,
               retryAfter: TimeInterval? = nil) -> TimeInterval? {
        policy.nextAttempt(afterAttempts: attempts, startedAt: startedAt, now: now, jitter: jitter, retryAfter: retryAfter)?
            .timeIntervalSince(now)
    }

    @Test func backsOffExponentiallyWithinItsCapAndGivesUp() {
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: 10, maximumDelay: 60)
        #expect((1...4).map { delay(policy, after: $0) } == [10, 20, 40, 60])
        #expect(delay(policy, after: 5) == nil)
        #expect(delay(policy, after: 1, jitter: 0) == 8)
        #expect(delay(policy, after: 1, jitter: 1) == 12)
        #expect(delay(policy, after: 1, retryAfter: 120) == 120)
        #expect(delay(policy, after: 1, retryAfter: 10 * 86_400) == RetryPolicy.longestRetryAfter)
    }

    @Test func webhooksFollowTheStandardWebhooksScheduleForAboutThreeDays() throws {
        let policy = RetryPolicy.webhook
        #expect((1...7).map { delay(policy, after: $0) } == [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000])
        #expect(delay(policy, after: 10) == nil)
        let days = try #require(policy.span) / 86_400
        #expect(days > 2.5 && days < 3.5)
    }

    @Test func emailGivesUpAfterFiveDaysLikeAMailQueue() throws {
        let policy = RetryPolicy.email
        #expect(delay(policy, after: 1) == 300)
        #expect(delay(policy, after: 2) == 600)
        #expect(delay(policy, after: 40) == 3_600)
        let started = now.addingTimeInterval(-4 * 86_400)
        #expect(delay(policy, after: 90, startedAt: started) == 3_600)
        #expect(delay(policy, after: 90, startedAt: now.addingTimeInterval(-5 * 86_400 + 1_800)) == nil)
        let span = try #require(policy.span)
        #expect(span == 432_000)
    }

    @Test func durationsReadAsPeopleWriteThem() {
        #expect(DurationText.parse("90") == 90)
        #expect(DurationText.parse("5m") == 300)
        #expect(DurationText.parse("1h30m") == 5_400)
        #expect(DurationText.parse("3d") == 259_200)
        #expect(DurationText.parse("5 minutes") == nil)
        #expect(DurationText.parse("m") == nil)
        #expect(DurationText.parse("-5") == nil)
        #expect(DurationText.parseList("5s, 5m 30m") == [5, 300, 1_800])
        #expect(DurationText.parseList("5s, soon") == nil)
        #expect(DurationText.format(5_400) == "1h30m")
        #expect(DurationText.format(259_205) == "3d5s")
    }
}
