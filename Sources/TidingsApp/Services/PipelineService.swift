import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore
import TidingsDelivery
import TidingsStore

/// Applies the log to the read models and the outbox, batch by batch. It polls the log head
/// (cheap) so that events appended by another process are seen within one poll interval, and
/// rings the dispatcher the moment a batch creates messages.
public final class PipelineService: Service {
    let store: any PipelineStore
    let engine: WorkflowEngine
    let dispatcher: Doorbell
    /// The local dispatcher's, when it runs: batches claim their new messages for it.
    let handoff: ClaimHandoff?
    let batchSize: Int
    let pollInterval: Duration
    let logger: Logger
    let clock: @Sendable () -> Date
    let fanoutBatch: Int
    /// Rung by in-process appenders (the HTTP API) to skip the poll wait.
    public let doorbell: Doorbell
    /// The clock service's doorbell, rung when a batch starts a timer.
    public let timers = Doorbell()
    /// When the loop last made progress (a turn that applied events or found nothing to do),
    /// for the watchdog and /readyz: a loop failing the same batch again and again has none.
    /// Starts at creation, so the watchdog does not take a loop that has yet to start for stuck.
    public let heartbeat = Atomic<Int64>(Int64(Date().timeIntervalSince1970))
    /// Why the last turn failed, until one succeeds: what the watchdog says when it gives up.
    public let lastError = Mutex<String?>(nil)
    /// The last checkpoint reached, for the status line.
    public let position = Atomic<Int64>(0)
    /// Deletes the staged events of `tidings append`s that died, which would otherwise hold
    /// back everything after them; returns how many it abandoned.
    let abandonDeadAppends: @Sendable () throws -> Int
    /// Whether HTTP requests wait for the writer: then batches are small, and a long batch
    /// stops early (`Yielding`), so that ingest is never held behind one.
    let ingestWaiting: @Sendable () -> Bool
    /// Whether the dispatcher waits for the same writer (SQLite): a fan-out stops for it too.
    let sendingWaits: @Sendable () -> Bool
    /// Tells the dispatcher whether a fan-out is running, after every batch and at the end.
    let fanningOut: @Sendable (Bool) -> Void
    /// The batch size while requests wait, and how far it grows while the pipeline falls
    /// behind: each batch costs a commit besides its events, so batches this small could not
    /// keep up with a steady stream of single-event requests (each cycle of ingest commits and
    /// one batch takes about 10 ms on this machine's disk). Half the lag, within these bounds.
    static let smallBatch = 25
    static let catchUpBatch = 100
    private let processed = Counter(label: "tidings_pipeline_events_total")
    /// Set when a batch applied by ingest left work the loop must look at.
    private let lookAgain = Atomic<Bool>(false)
    /// Set by a graceful shutdown: the loop ends, and a running batch stops at its next
    /// `Yielding` check, so a stop never waits for a whole batch.
    private let stopping = Atomic<Bool>(false)

    /// How often an instance whose pipeline another instance leads (PostgreSQL) tries to take
    /// over, unless its own ingest rings first: within this of the leader's death.
    static let followerPoll: Duration = .seconds(1)

    public init(store: any PipelineStore, engine: WorkflowEngine, dispatcher: Doorbell, batchSize: Int, pollInterval: Duration, logger: Logger,
                fanoutBatch: Int = 1000, clock: @escaping @Sendable () -> Date,
                abandonDeadAppends: @escaping @Sendable () throws -> Int = { 0 }, ingestWaiting: @escaping @Sendable () -> Bool = { false },
                sendingWaits: @escaping @Sendable () -> Bool = { false }, fanningOut: @escaping @Sendable (Bool) -> Void = { _ in },
                doorbell: Doorbell = Doorbell(), handoff: ClaimHandoff? = nil) {
        self.doorbell = doorbell
        self.handoff = handoff
        self.abandonDeadAppends = abandonDeadAppends
        self.ingestWaiting = ingestWaiting
        self.sendingWaits = sendingWaits
        self.fanningOut = fanningOut
        self.fanoutBatch = fanoutBatch
        self.store = store
        self.engine = engine
        self.dispatcher = dispatcher
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.logger = logger
        self.clock = clock
    }

    /// The loop made progress. Wall time, whatever the clock: the watchdog and /readyz compare
    /// it with theirs.
    private func beat() {
        heartbeat.store(Int64(Date().timeIntervalSince1970), ordering: .relaxed)
        lastError.withLock { $0 = nil }
    }

    /// Takes a batch applied elsewhere (by ingest, in its own commit: `InlineProjection`) as if
    /// the loop had run it, and wakes the loop when it left work behind: fan-out, retries, or a
    /// wait of its own (a parked message, a waiting event), which may end before the one the
    /// loop knows. Not for waits older than the batch: the loop knows those already.
    public func applied(_ batch: PipelineBatch) {
        advance(to: batch.checkpoint)
        processed.increment(by: batch.processed)
        report(batch)
        if batch.fanoutPending || batch.retriesRequested || batch.parked > 0 || batch.waiting > 0 {
            lookAgain.store(true, ordering: .relaxed)
            doorbell.ring()
        }
    }

    /// Batches commit in the writer's order but report from two tasks: the checkpoint only grows.
    private func advance(to checkpoint: Int64) {
        var current = position.load(ordering: .relaxed)
        while current < checkpoint {
            let (exchanged, original) = position.compareExchange(expected: current, desired: checkpoint, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            advance(to: (try? await store.checkpoint()) ?? 0)
            // Disruption alerts queued before a restart are still to be sent.
            var fanoutPending = true
            // When the first message parked for its customer, or event waiting for its order or
            // ticket, stops waiting.
            var waitEnd = try? await store.nextWaitEnd()
            var lastReaped = ContinuousClock.now
            // The last batch's view of the store, until the loop waits or does other work.
            var last: PipelineBatch?
            beat()
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    let retries: Bool
                    if let last { retries = last.retriesRequested } else { retries = try await store.retriesRequested() }
                    if retries {
                        last = nil
                        await retryHeldEvents()
                    }
                    if ContinuousClock.now - lastReaped > .seconds(2) {
                        lastReaped = ContinuousClock.now
                        let abandoned = try abandonDeadAppends()
                        if abandoned > 0 {
                            last = nil
                            logger.warning("abandoned the staged events of appends whose process died", metadata: ["appends": "\(abandoned)"])
                        }
                    }
                    // A batch also runs, caught up or not, when a wait ends (a parked message
                    // whose customer never came is skipped then, with the reason).
                    let waitEnded = waitEnd.map { clock() >= $0 } ?? false
                    let head: Int64
                    if let last { head = last.head } else { head = try await store.head() }
                    let lag = head - position.load(ordering: .relaxed)
                    if fanoutPending || waitEnded || lag > 0 || lookAgain.exchange(false, ordering: .relaxed) {
                        let requestsWaiting = ingestWaiting()
                        let small = Int(min(max(lag / 2, Int64(Self.smallBatch)), Int64(Self.catchUpBatch)))
                        let limit = requestsWaiting ? min(batchSize, small) : batchSize
                        let batch = try await store.processBatch(limit: limit, engine: engine, now: clock,
                                                                 fanoutLimit: requestsWaiting ? min(fanoutBatch, Self.smallBatch * 4) : fanoutBatch,
                                                                 yielding: Yielding(stride: small, waiting: { [self] in
                                                                     ingestWaiting() || stopping.load(ordering: .relaxed)
                                                                 }, sending: sendingWaits), handoff: handoff)
                        fanoutPending = batch.fanoutPending
                        fanningOut(fanoutPending)
                        advance(to: batch.checkpoint)
                        processed.increment(by: batch.processed)
                        report(batch)
                        waitEnd = batch.nextWaitEnd
                        beat()
                        last = batch
                        if batch.processed == limit || batch.yielded || fanoutPending { continue }
                    }
                    let follower = last?.ledElsewhere ?? false
                    last = nil
                    beat()
                    await doorbell.wait(timeout: follower ? max(pollInterval, Self.followerPoll) : pollInterval)
                } catch {
                    // A busy or failing disk is not fatal: say so and try again shortly. If it
                    // lasts, the watchdog stops pinging and systemd restarts the daemon.
                    last = nil
                    fanningOut(false)
                    lastError.withLock { $0 = "\(error)" }
                    logger.error("pipeline batch failed; retrying in 1 s", metadata: ["error": "\(error)"])
                    await doorbell.wait(timeout: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
        fanningOut(false)
        logger.info("pipeline stopped", metadata: ["checkpoint": "\(position.load(ordering: .relaxed))"])
    }

    /// Rings who has work, counts, and says what an operator must see: every event set aside.
    func report(_ batch: PipelineBatch) {
        if batch.dispatcherMustClaim { dispatcher.ring() }
        if batch.timersScheduled > 0 { timers.ring() }
        if batch.disruptionAlerts > 0 { Counter(label: "tidings_disruption_alerts_total").increment(by: batch.disruptionAlerts) }
        for (channel, count) in batch.suppressedByChannel {
            Counter(label: "tidings_messages_suppressed_total", dimensions: [("channel", channel.rawValue)]).increment(by: count)
        }
        for (tally, count) in batch.receipts {
            Counter(label: "tidings_receipts_total", dimensions: [
                ("channel", tally.channel.rawValue), ("workflow", tally.workflow), ("status", tally.status.rawValue),
            ]).increment(by: count)
        }
        for key in batch.receiptsBeforeRecord {
            logger.warning("a receipt came before the send was recorded: kept in the message's history, not applied; see tidings deliveries show",
                           metadata: ["key": "\(key)"])
        }
        if batch.receiptsUnmatched > 0 {
            logger.notice("receipts for messages the outbox no longer holds: kept in the log only", metadata: ["count": "\(batch.receiptsUnmatched)"])
        }
        if batch.parked > 0 { Counter(label: "tidings_messages_parked_total").increment(by: batch.parked) }
        if batch.skipped > 0 { Counter(label: "tidings_messages_skipped_total", dimensions: [("reason", "workflow")]).increment(by: batch.skipped) }
        if batch.parkedExpired > 0 {
            Counter(label: "tidings_messages_skipped_total", dimensions: [("reason", "customer_unknown")]).increment(by: batch.parkedExpired)
            logger.warning("messages skipped: their customer was never registered within pipeline.park_window",
                           metadata: ["count": "\(batch.parkedExpired)"])
        }
        if batch.waiting > 0 { Counter(label: "tidings_events_waiting_total").increment(by: batch.waiting) }
        if !batch.quarantined.isEmpty {
            Counter(label: "tidings_events_quarantined_total").increment(by: batch.quarantined.count)
            for note in batch.quarantined {
                logger.warning("event quarantined: the pipeline went on without it; `tidings events retry` applies it after a fix",
                               metadata: ["position": "\(note.key)", "reason": "\(note.reason)"])
            }
        }
        logger.debug("pipeline batch", metadata: [
            "events": "\(batch.processed)", "checkpoint": "\(batch.checkpoint)",
            "messages": "\(batch.readyByChannel.values.reduce(0, +))", "skipped": "\(batch.skipped)",
            "suppressed": "\(batch.suppressed)", "parked": "\(batch.parked)", "released": "\(batch.releasedMessages)",
        ])
    }

    /// Applies the held events an operator asked to retry (`tidings events retry`).
    func retryHeldEvents() async {
        do {
            for outcome in try await store.retryRequested(engine: engine, now: clock) {
                if let failure = outcome.failure {
                    logger.warning("held event retried and quarantined again", metadata: ["position": "\(outcome.key)", "reason": "\(failure)"])
                } else {
                    logger.notice("held event applied on retry", metadata: ["position": "\(outcome.key)"])
                }
            }
            dispatcher.ring()
            timers.ring()
        } catch {
            logger.error("retrying held events failed; trying again shortly", metadata: ["error": "\(error)"])
        }
    }
}
