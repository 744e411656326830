import Testing
import TidingsCore

@Suite("Yielding the writer")
struct YieldingTests {
    /// The event loop's counter stops for requests only; the fan-out's also for the dispatcher,
    /// and only once it has told `sendingAfter` orders, so that its commits stay few.
    @Test func onlyTheFanOutStopsForTheDispatcherAndNotBeforeItsMinimum() {
        let yielding = Yielding(stride: 1, waiting: { false }, sending: { true }, sendingAfter: 3)
        var events = Yielding.Counter(yielding)
        var fanout = Yielding.Counter(yielding, fanOut: true)
        var stoppedAt: Int?
        for done in 0..<10 {
            let stopped = events.shouldStop()
            #expect(!stopped, "the event loop stopped for the dispatcher after \(done)")
            events.count()
            if stoppedAt == nil, fanout.shouldStop() { stoppedAt = done }
            fanout.count()
        }
        #expect(stoppedAt == 3)
    }

    /// With a stride, the fan-out stops at the first check at or after its minimum.
    @Test func theFanOutStopsAtTheFirstStrideAfterItsMinimum() {
        var fanout = Yielding.Counter(Yielding(stride: 3, waiting: { false }, sending: { true }, sendingAfter: 4), fanOut: true)
        var stoppedAt: Int?
        for done in 0..<12 where stoppedAt == nil {
            if fanout.shouldStop() { stoppedAt = done }
            fanout.count()
        }
        #expect(stoppedAt == 6)
    }

    @Test func requestsStopEitherAtItsStride() {
        let yielding = Yielding(stride: 2, waiting: { true }, sending: { false })
        for fanOut in [false, true] {
            var counter = Yielding.Counter(yielding, fanOut: fanOut)
            var stops: [Int] = []
            for done in 0..<6 {
                if counter.shouldStop() { stops.append(done) }
                counter.count()
            }
            #expect(stops == [2, 4], "fanOut \(fanOut)")
        }
    }
}
