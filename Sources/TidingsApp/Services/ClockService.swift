import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsDelivery
import TidingsCore

/// Fires deadline timers: every timer due by now becomes its deadline event in the log (with
/// a fixed id, so it fires once even across crashes), and the pipeline is rung to apply it.
/// It sleeps until the next timer is due, at most `pollInterval`, and is rung when the
/// pipeline starts a timer. With a simulated clock it also follows the database's time.
public final class ClockService: Service {
    let store: any TimerStore
    let now: @Sendable () -> Date
    /// The simulated clock to keep in step with the database, if the daemon runs on one.
    let simulated: DaemonClock?
    let pipeline: Doorbell
    let dispatcher: Doorbell
    let pollInterval: Duration
    let logger: Logger
    /// Rung by the pipeline when it starts a timer that may fall due before the next wake-up
    /// (the pipeline's `timers` doorbell).
    public let doorbell: Doorbell

    public init(store: any TimerStore, now: @escaping @Sendable () -> Date, simulated: DaemonClock? = nil, pipeline: Doorbell, dispatcher: Doorbell,
                doorbell: Doorbell = Doorbell(), pollInterval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.doorbell = doorbell
        self.now = now
        self.simulated = simulated?.source == .database ? simulated : nil
        self.pipeline = pipeline
        self.dispatcher = dispatcher
        // A simulated time moves when someone sets it: look often.
        self.pollInterval = self.simulated == nil ? pollInterval : .milliseconds(100)
        self.logger = logger
    }

    public func run() async throws {
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            var acknowledged: Date?
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    if try await simulated?.refresh(from: store) == true {
                        pipeline.ring()
                        dispatcher.ring()
                    }
                    try await tick()
                    // Every service now reads the new time, and its deadlines are in the log:
                    // `tidings clock set` may return, and what is appended next is applied at it.
                    if let now = simulated?.simulatedTime, now != acknowledged {
                        try await store.acknowledgeSimulatedTime(now)
                        acknowledged = now
                    }
                    await doorbell.wait(timeout: try await waitLimit())
                } catch {
                    // A busy disk delays deadlines; it must not stop them.
                    logger.error("firing deadline timers failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    await doorbell.wait(timeout: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
        logger.info("clock stopped")
    }

    /// Fires every timer due now and rings the pipeline when it did. Returns how many deadline
    /// events it appended. Tests call it with an injected clock instead of waiting.
    @discardableResult
    public func tick() async throws -> Int {
        var fired = 0
        while true {
            let batch = try await store.fireDueTimers(now: now(), limit: 1000)
            fired += batch.appended
            if batch.timers < 1000 { break }
        }
        if fired > 0 {
            Counter(label: "tidings_deadlines_fired_total").increment(by: fired)
            logger.debug("deadline events appended", metadata: ["count": "\(fired)"])
            pipeline.ring()
        }
        return fired
    }

    /// Until the next timer is due, at most the poll interval.
    func waitLimit() async throws -> Duration {
        guard simulated == nil, let next = try await store.nextTimer() else { return pollInterval }
        let seconds = max(0.001, next.dueAt.timeIntervalSince(now()))
        return min(pollInterval, .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}
