import Testing
@testable import TidingsDelivery

@Suite("Doorbell", .timeLimit(.minutes(1)))
struct DoorbellTests {
    @Test func aRingBeforeTheWaitIsNotMissed() async {
        let bell = Doorbell()
        bell.ring()
        let start = ContinuousClock.now
        await bell.wait(timeout: .seconds(60))
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(!bell.takeRing())
    }

    @Test func aRingEndsAWait() async {
        let bell = Doorbell()
        let start = ContinuousClock.now
        async let waited: Void = bell.wait(timeout: .seconds(60))
        try? await Task.sleep(for: .milliseconds(20))
        bell.ring()
        await waited
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    /// One timer serves waits that end later than it; a wait that ends sooner than the timer
    /// armed for an earlier, longer wait still ends on time, and so does one that ends later.
    @Test func waitsEndAtTheirOwnTimeoutWhateverTheTimersArmedBefore() async {
        let bell = Doorbell()
        async let long: Void = bell.wait(timeout: .seconds(60))
        try? await Task.sleep(for: .milliseconds(20))
        bell.ring()
        await long
        var start = ContinuousClock.now
        await bell.wait(timeout: .milliseconds(30))
        #expect(ContinuousClock.now - start >= .milliseconds(25))
        #expect(ContinuousClock.now - start < .seconds(30), "a short wait waited for the long wait's timer")
        // Armed for 100 ms; a wait after it that ends later arms nothing new until it fires.
        async let first: Void = bell.wait(timeout: .milliseconds(100))
        try? await Task.sleep(for: .milliseconds(5))
        bell.ring()
        await first
        _ = bell.takeRing()  // a slow machine: the first wait may have timed out before the ring
        start = ContinuousClock.now
        await bell.wait(timeout: .milliseconds(300))
        #expect(ContinuousClock.now - start >= .milliseconds(250), "a later wait ended at an earlier timer")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func cancellingTheTaskEndsTheWait() async {
        let bell = Doorbell()
        let start = ContinuousClock.now
        let task = Task { await bell.wait(timeout: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}
