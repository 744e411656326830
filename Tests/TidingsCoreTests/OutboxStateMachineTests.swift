import Foundation
import Testing
@testable import TidingsCore

@Suite("Outbox state machine")
struct OutboxStateMachineTests {
    let now = Fixtures.t0
    let email = Route(channel: .email, recipient: "ann@example.com")
    let sms = Route(channel: .sms, recipient: "+447700900123")
    let policy = RetryPolicy(maxAttempts: 3, initialDelay: 60, maximumDelay: 600)

    var fresh: DeliveryProgress { DeliveryProgress(state: .pending, route: sms, fallbacks: [email], attempts: 0, dueAt: now) }

    func claimed(_ progress: DeliveryProgress, at time: Date? = nil) throws -> DeliveryProgress {
        try #require(OutboxStateMachine.claim(progress, now: time ?? now, lease: 30))
    }

    /// Metrics keep one counter per outcome at `index` and name it from `labels`: each
    /// outcome's place must hold its own label, distinct from the others.
    @Test func eachOutcomeHasItsOwnPlaceAmongTheLabels() {
        let outcomes: [DeliveryOutcome] = [.sent(detail: "250"), .transient(reason: "busy"), .permanent(reason: "no"), .gone(reason: "410")]
        #expect(Set(outcomes.map(\.index)).count == outcomes.count)
        for outcome in outcomes {
            #expect(DeliveryOutcome.labels.indices.contains(outcome.index))
            #expect(DeliveryOutcome.labels[outcome.index] == outcome.label)
        }
        #expect(DeliveryOutcome.labels.count == outcomes.count)
    }

    @Test func claimingTakesALeaseAndCountsTheAttempt() throws {
        let progress = try claimed(fresh)
        #expect(progress.state == .sending)
        #expect(progress.attempts == 1)
        #expect(progress.leaseUntil == now.addingTimeInterval(30))
        #expect(OutboxStateMachine.claim(progress, now: now.addingTimeInterval(10), lease: 30) == nil)
        #expect(try claimed(progress, at: now.addingTimeInterval(31)).attempts == 2)  // the lease ran out
        var later = fresh
        later.dueAt = now.addingTimeInterval(5)
        #expect(OutboxStateMachine.claim(later, now: now, lease: 30) == nil)
    }

    @Test func transientFailuresRetryOnTheScheduleThenFallBack() throws {
        var progress = try claimed(fresh)
        progress = OutboxStateMachine.settle(progress, outcome: .transient(reason: "HTTP 503"), now: now, policy: policy, jitter: 0.5)
        #expect(progress.state == .retrying)
        #expect(progress.dueAt == now.addingTimeInterval(60))
        progress = try claimed(progress, at: progress.dueAt)
        progress = OutboxStateMachine.settle(progress, outcome: .transient(reason: "HTTP 503"), now: now, policy: policy, jitter: 0.5)
        #expect(progress.dueAt == now.addingTimeInterval(120))
        progress = try claimed(progress, at: progress.dueAt)
        progress = OutboxStateMachine.settle(progress, outcome: .transient(reason: "HTTP 503"), now: now, policy: policy, jitter: 0.5)
        #expect(progress.state == .pending)
        #expect(progress.route == email)
        #expect(progress.attempts == 0)
        #expect(progress.fallbacks.isEmpty)
        #expect(progress.lastError == "sms: gave up after 3 attempts: HTTP 503; falling back to email")
    }

    @Test func aPermanentFailureWithNothingLeftIsDead() throws {
        var progress = fresh
        progress.fallbacks = []
        progress = OutboxStateMachine.settle(try claimed(progress), outcome: .permanent(reason: "HTTP 400"), now: now, policy: policy,
                                             jitter: 0)
        #expect(progress.state == .dead)
        #expect(progress.lastError == "sms: HTTP 400")
        let revived = try #require(OutboxStateMachine.retry(progress, now: now))
        #expect(revived.state == .pending)
        #expect(revived.attempts == 0)
        #expect(OutboxStateMachine.retry(fresh, now: now) == nil)
    }

    @Test func retryAfterIsHonoured() throws {
        let progress = OutboxStateMachine.settle(try claimed(fresh), outcome: .transient(reason: "HTTP 429", retryAfter: 900), now: now,
                                                 policy: policy, jitter: 0.5)
        #expect(progress.dueAt == now.addingTimeInterval(900))
    }

    @Test func onlyUnsentMessagesCanBeSuppressed() throws {
        #expect(OutboxStateMachine.suppress(fresh, reason: "stale")?.state == .suppressed)
        #expect(OutboxStateMachine.suppress(try claimed(fresh), reason: "stale") == nil)
        let sent = OutboxStateMachine.settle(try claimed(fresh), outcome: .sent(detail: "HTTP 201"), now: now, policy: policy, jitter: 0)
        #expect(sent.state == .sent)
        #expect(OutboxStateMachine.suppress(sent, reason: "stale") == nil)
        #expect(Workflow.Category.orderStatus.canBeSuperseded)
        #expect(!Workflow.Category.acknowledgement.canBeSuperseded)
    }
}
