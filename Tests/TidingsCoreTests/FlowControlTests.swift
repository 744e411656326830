import Foundation
import Testing
@testable import TidingsCore

@Suite("Flow control: circuit breaker, rate limit, channel gate")
struct FlowControlTests {
    let now = Fixtures.t0

    func at(_ seconds: TimeInterval) -> Date { now.addingTimeInterval(seconds) }

    @Test func theBreakerOpensAfterFailuresInARowAndProbesAfterItsCoolDown() {
        var breaker = CircuitBreaker(threshold: 3, coolDown: 30, maximumCoolDown: 100)
        breaker.record(.failing, now: now)
        breaker.record(.failing, now: now)
        breaker.record(.healthy, now: now)  // a success resets the count
        for _ in 0..<2 { breaker.record(.failing, now: now) }
        #expect(breaker.allowance(now: now) == nil)
        breaker.record(.failing, now: now)
        #expect(breaker.allowance(now: at(29)) == 0)
        #expect(breaker.reopensAt == at(30))
        // Half-open: one probe at a time.
        #expect(breaker.allowance(now: at(30)) == 1)
        breaker.started(1)
        #expect(breaker.allowance(now: at(31)) == 0)
        breaker.record(.failing, now: at(31))
        #expect(breaker.reopensAt == at(91))  // the cool-down doubles
        _ = breaker.allowance(now: at(91))
        breaker.started(1)
        breaker.record(.failing, now: at(92))
        #expect(breaker.reopensAt == at(192))  // capped at 100 s
        _ = breaker.allowance(now: at(192))
        breaker.started(1)
        breaker.record(.healthy, now: at(193))
        #expect(!breaker.isPaused)
        #expect(breaker.allowance(now: at(193)) == nil)
    }

    @Test func aRefusalOfOneMessageSaysNothingAboutTheEndpoint() {
        var breaker = CircuitBreaker(threshold: 2)
        for _ in 0..<5 { breaker.record(DeliveryOutcome.permanent(reason: "HTTP 400").endpointSignal, now: now) }
        #expect(!breaker.isPaused)
        breaker.record(DeliveryOutcome.transient(reason: "HTTP 503").endpointSignal, now: now)
        breaker.record(DeliveryOutcome.transient(reason: "timeout").endpointSignal, now: now)
        #expect(breaker.isPaused)
        breaker.record(.failing, now: at(10))  // a late failure does not extend the pause
        #expect(breaker.reopensAt == at(30))
        // In half-open, a late result from a send that started before the pause is not the probe's.
        #expect(breaker.allowance(now: at(30)) == 1)
        breaker.started(1)
        breaker.record(.failing, now: at(31), startedIn: breaker.epoch - 1)
        breaker.record(.neutral, now: at(31), startedIn: breaker.epoch - 1)
        #expect(breaker.allowance(now: at(31)) == 0)  // still waiting for the probe
        breaker.record(.healthy, now: at(32), startedIn: breaker.epoch)
        #expect(!breaker.isPaused)
    }

    @Test func theRateLimiterAllowsBurstsThenItsRate() {
        var limiter = RateLimiter(perSecond: 2, burst: 4)
        #expect(limiter.available(now: now) == 4)
        limiter.take(4, now: now)
        #expect(limiter.available(now: now) == 0)
        #expect(limiter.nextToken(now: now) == at(0.5))
        #expect(limiter.available(now: at(0.5)) == 1)
        #expect(limiter.available(now: at(10)) == 4)  // never more than the burst
    }

    @Test func theGateTakesTheTightestLimit() {
        var gate = ChannelGate(concurrency: 3, breaker: CircuitBreaker(threshold: 2, coolDown: 10), limiter: RateLimiter(perSecond: 1, burst: 5))
        #expect(gate.room(now: now) == 3)
        gate.started(3, now: now)
        #expect(gate.room(now: now) == 0)
        gate.finished(.sent(detail: "HTTP 200"), now: now)
        #expect(gate.room(now: now) == 1)  // one slot; two tokens left
        gate.started(1, now: now)
        gate.finished(.transient(reason: "HTTP 503"), now: now)
        gate.finished(.transient(reason: "HTTP 503"), now: now)
        #expect(gate.room(now: now) == 0)  // paused
        #expect(gate.nextOpening(now: now) == at(10))
        gate.finished(.transient(reason: "HTTP 503"), now: now)
        #expect(gate.room(now: at(10)) == 1)  // the probe
        var limited = ChannelGate(concurrency: 10, limiter: RateLimiter(perSecond: 4, burst: 2))
        limited.started(limited.room(now: now), now: now)
        #expect(limited.room(now: now) == 0)
        #expect(limited.nextOpening(now: now) == at(0.25))
    }

    /// A transport that holds sends for its connections gets that many more started, except
    /// under a rate limit, where they would only wait.
    @Test func aGateStartsWhatTheTransportHoldsBesideItsConcurrency() {
        var gate = ChannelGate(concurrency: 4, queued: 4)
        #expect(gate.room(now: now) == 8)
        gate.started(8, now: now)
        #expect(gate.room(now: now) == 0)
        #expect(gate.nextOpening(now: now) == nil)
        gate.finished(.sent(detail: "HTTP 200"), now: now)
        #expect(gate.room(now: now) == 1)
        let limited = ChannelGate(concurrency: 4, queued: 4, limiter: RateLimiter(perSecond: 100, burst: 100))
        #expect(limited.queued == 0)
    }

    /// A send given back unsent frees its slot and says nothing of the endpoint: a probe given
    /// back leaves room for another probe.
    @Test func aSendGivenBackFreesItsSlotAndLetsAnotherProbe() {
        var gate = ChannelGate(concurrency: 2, queued: 2, breaker: CircuitBreaker(threshold: 1, coolDown: 10))
        let epoch = gate.started(1, now: now)
        gate.finished(.transient(reason: "HTTP 503"), now: now, startedIn: epoch)
        #expect(gate.room(now: now) == 0)  // paused
        #expect(gate.room(now: at(10)) == 1)  // the probe
        let probe = gate.started(1, now: at(10))
        #expect(gate.room(now: at(10)) == 0)
        gate.givenBack(now: at(10), startedIn: probe)
        #expect(gate.inFlight == 0)
        #expect(gate.room(now: at(10)) == 1)
    }

    @Test func instancesTakeEqualSharesOfARateLimit() {
        var limiter = RateLimiter(perSecond: 9, burst: 6)
        limiter.share(among: 3, now: now)
        #expect(limiter.rate == 3)
        #expect(limiter.available(now: now) == 2)  // a third of the burst, not the tokens held before
        limiter.take(2, now: now)
        #expect(limiter.nextToken(now: now) == at(1.0 / 3))
        limiter.share(among: 4, now: now)
        #expect(limiter.burst == 1)
        limiter.share(among: 1, now: at(10))  // the others are gone: the whole limit again
        #expect(limiter.rate == 9)
        #expect(limiter.available(now: at(11)) == 6)
        limiter.share(among: 100, now: at(20))
        #expect(limiter.burst == 1)  // never below one send
    }

    @Test func aBreakerTakesOnAnotherInstancesPauseAndItsLateResultsCountForNothing() {
        var breaker = CircuitBreaker(threshold: 3, coolDown: 30)
        let epoch = breaker.epoch
        let changed1 = breaker.adopt(ChannelPause(until: now, trips: 1), now: now)
        #expect(!changed1)  // over already
        let changed2 = breaker.adopt(ChannelPause(until: at(30), trips: 2), now: now)
        #expect(changed2)
        #expect(breaker.allowance(now: at(1)) == 0)
        #expect(breaker.trips == 2)
        breaker.record(.healthy, now: at(2), startedIn: epoch)  // a send from before the pause
        #expect(breaker.isPaused)
        let changed3 = breaker.adopt(ChannelPause(until: at(20), trips: 1), now: at(2))
        #expect(!changed3)  // paused longer already
        let changed4 = breaker.adopt(ChannelPause(until: at(60), trips: 3), now: at(2))
        #expect(changed4)
        #expect(breaker.reopensAt == at(60))
        #expect(breaker.allowance(now: at(60)) == 1)  // then probes as its own pause would
        breaker.started(1)
        breaker.record(.healthy, now: at(61), startedIn: breaker.epoch)
        #expect(!breaker.isPaused)
        #expect(breaker.trips == 0)
    }

    @Test func theReportSaysTheLatestOfEachChannelAndKeepsWhatCouldNotBeSent() {
        var breaker = CircuitBreaker(threshold: 1, coolDown: 30)
        var report = FlowReport()
        breaker.record(.failing, now: now)
        report.note(.sms, breaker)
        #expect(report.pauses == [.sms: ChannelPause(until: at(30), trips: 1)])
        _ = breaker.allowance(now: at(30))
        breaker.started(1)
        breaker.record(.healthy, now: at(31))
        report.note(.sms, breaker)
        #expect(report.pauses.isEmpty)
        #expect(report.resumed == [.sms])
        var later = FlowReport(pauses: [.email: ChannelPause(until: at(40), trips: 1)])
        later.keep(FlowReport(pauses: [.email: ChannelPause(until: at(35), trips: 1), .messenger: ChannelPause(until: at(35), trips: 1)],
                              resumed: [.sms]))
        #expect(later.pauses == [.email: ChannelPause(until: at(40), trips: 1), .messenger: ChannelPause(until: at(35), trips: 1)])
        #expect(later.resumed == [.sms])
        var gate = ChannelGate(concurrency: 4, limiter: RateLimiter(perSecond: 8))
        let changed5 = gate.adopt(SharedFlow(instances: 2, pauses: [.sms: ChannelPause(until: at(5), trips: 1)]), for: .sms, now: now)
        #expect(changed5)
        #expect(gate.room(now: now) == 0)
        #expect(gate.room(now: at(5)) == 1)  // the probe
        var other = ChannelGate(concurrency: 8, limiter: RateLimiter(perSecond: 8))
        let changed6 = other.adopt(SharedFlow(instances: 2), for: .email, now: now)
        #expect(!changed6)
        #expect(other.room(now: now) == 4)
    }
}
