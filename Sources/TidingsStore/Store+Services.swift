import Foundation
import GRDB
import Synchronization
import TidingsCore

// The SQLite store as the daemon's services see it: the storage protocols of TidingsCore, each
// method waiting for the database suspended. The synchronous methods beside them serve the
// commands and the tests.

extension Store: EventLog {
    /// Each event encoded, its personal fields sealed with the key `sealingKeys` holds for its
    /// customer, on the request's task. Something that fails here is left to the writer, which
    /// encodes and seals again, and reports the failure as the append's.
    public func prepare(_ events: [CloudEvent]) -> [EncodedEvent] {
        var nonces = Sealing.Nonces()
        return events.map { event in
            let plain = EncodedEvent(unencoded: event)
            guard let owner = PersonalData.owner(of: event) else { return (try? EncodedEvent(event)) ?? plain }
            return (try? plain.sealed(key: sealingKeys.key(for: owner), owner: owner, nonces: &nonces)) ?? plain
        }
    }

    public func append(batches: [[EncodedEvent]], now: Date) async throws -> [AppendResult] {
        try await write("appending \(batches.reduce(0) { $0 + $1.count }) events") { [sealingKeys] db in
            try Self.append(db, batches, now: now, keys: sealingKeys)
        }
    }
}

extension Store: OutboxQueue {
    /// Sixteen on SQLite: the dispatcher's writes then carry about 128 results and claims for
    /// 16 sends instead of about 30, and a commit's pages cost more per message the fewer it
    /// carries (0.86 pages of log a message at 32, 0.49 at 128): webhooks and email took 12-25%
    /// less CPU a message (BENCHMARKS.md, "Fewer pages a message"). Acknowledgements do not
    /// wait behind the claims: the pipeline hands them over as it writes them (`ClaimHandoff`).
    public static let windowPerSlot = 16

    public var windowPerSlot: Int { Self.windowPerSlot }

    public func settleAndClaim(_ records: [DeliveryRecord], releasing: [Int64], room: [Channel: Int], endpoints: [Channel: String], now: Date,
                               lease: TimeInterval, owner: String) async throws -> OutboxClaim {
        try await writeWithoutSync("recording \(records.count) results and claiming messages") { db in
            try Self.settleAndClaim(db, records, releasing: releasing, room: room, endpoints: endpoints, now: now, lease: lease, owner: owner)
        }
    }

    public func record(_ records: [DeliveryRecord], now: Date) async throws {
        guard !records.isEmpty else { return }
        try await write("recording \(records.count) delivery results") { db in _ = try Self.record(db, records, now: now) }
    }

    public func releaseInterruptedClaims(now: Date) async throws -> Int {
        try await write("releasing interrupted claims") { db in try Self.releaseInterruptedClaims(db, now: now) }
    }
}

extension Store: PipelineStore {
    public func head() async throws -> Int64 {
        try await read("reading the log head") { db in try Self.head(db) }
    }

    public func checkpoint() async throws -> Int64 {
        try await read("reading the checkpoint") { db in try Self.checkpoint(db, Self.pipelineCheckpoint) }
    }

    /// While a backlog or a fan-out lasts, the batch after this one is read ahead on a reader
    /// (`Lookahead`), on the other core, as this one is applied on the writer.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                             handoff: ClaimHandoff?) async throws -> PipelineBatch
    {
        let (ahead, from, fanoutTold) = lookahead.take()
        let fanout = fanoutTold.flatMap { told in fanoutLimit > 0 ? FanoutAhead(told: told, limit: fanoutLimit) : nil }
        async let next = readAhead(after: from, skipping: limit, limit: limit, fanout: fanout)
        let batch = try await processBatch(limit: limit, engine: engine, now: now, fanoutLimit: fanoutLimit, yielding: yielding, handoff: handoff,
                                           ahead: ahead, syncing: Self.batchSyncs(fanoutQueued: fanoutTold != nil))
        lookahead.store(await next, from: batch.processed == limit || batch.yielded ? batch.checkpoint : nil,
                        fanoutTold: batch.fanoutPending ? batch.disruptionAlerts : nil)
        return batch
    }

    /// The events after the first `skipping` after `position`, the fan-out's next orders, and
    /// their models; nil when there is neither a backlog (`position` nil) nor a fan-out to read
    /// ahead in, or the read fails (the writer then reads for itself).
    func readAhead(after position: Int64?, skipping: Int, limit: Int, fanout: FanoutAhead? = nil) async -> Lookahead? {
        guard position != nil || fanout != nil else { return nil }
        let sequence = models.sequence  // before the read's snapshot: every commit it counts is in it
        return try? await read("reading the next batch ahead") { [models] db in
            try Lookahead.read(db, after: position, skipping: skipping, limit: limit, fanout: fanout, sequence: sequence, cache: models)
        }
    }

    /// Whether the daemon's batch waits for the disk when it commits: not while a disruption's
    /// fan-out is queued (many small commits of work that follows from the log, which is on
    /// disk, so a power cut's loss is applied again under the same message keys; README,
    /// "Durability"). Other batches do: beside ingest, batches without their fsync took a
    /// larger share of the writer, and single-event requests came 5-6% slower (BENCHMARKS.md).
    static func batchSyncs(fanoutQueued: Bool) -> Bool { !fanoutQueued }

    /// `syncing` false: the batch commits without waiting for the disk (`writeWithoutSync`), as
    /// the dispatcher's writes do (`batchSyncs`).
    func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                      handoff: ClaimHandoff?, ahead: Lookahead?, syncing: Bool = true) async throws -> PipelineBatch
    {
        // The batch runs in a task of its own, which a cancelled caller does not cancel (GRDB
        // would refuse its statements, and `writeWithoutSync` could not put its setting back):
        // it stops at its next look at `yielding` instead, and commits what it did.
        let cancelled = Atomic<Bool>(false)
        let yielding = yielding.stopping(when: { cancelled.load(ordering: .relaxed) })
        return try await withTaskCancellationHandler {
            try await applyBatch(limit: limit, engine: engine, now: now, fanoutLimit: fanoutLimit, yielding: yielding, handoff: handoff,
                                 ahead: ahead, syncing: syncing)
        } onCancel: {
            cancelled.store(true, ordering: .relaxed)
        }
    }

    /// One batch's transaction, again with each event that failed set aside, until it commits.
    private func applyBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                            handoff: ClaimHandoff?, ahead: Lookahead?, syncing: Bool) async throws -> PipelineBatch
    {
        var setAside: [HeldEvent.Key: String] = [:]
        while true {
            do {
                let aside = setAside
                let batch: @Sendable (Database) throws -> PipelineBatch = { [models, sealingKeys] db in
                    var run = try PipelineRun(db: db, engine: engine, now: now(), cache: models, setAside: aside, ahead: ahead)
                    // A forget moved the generation: ingest's ring of keys lets go of the erased one
                    // now, whether or not a request comes.
                    sealingKeys.observe(generation: run.generation)
                    var batch = try run.run(limit: limit, fanoutLimit: fanoutLimit, yielding: yielding)
                    // For the loop's next turn; ingest's own batches do without (a scan of the
                    // held events on every commit).
                    batch.head = try Self.head(db)
                    batch.nextWaitEnd = try Self.nextWaitEnd(db)
                    if let handoff { try Self.handOver(db, &batch, to: handoff, now: run.now) }
                    models.commit(run.loaded, after: db)
                    return batch
                }
                let what = "applying a pipeline batch"
                return try await Task { try await syncing ? write(what, batch) : writeWithoutSync(what, batch) }.value
            } catch let failure as EventFailure {
                try Self.setAside(failure, in: &setAside)
            }
        }
    }

    /// Claims what the batch made ready that goes out first, within the room the local
    /// dispatcher offers, and hands the claims over when the transaction commits: on the writer,
    /// before the next transaction starts, so a later one that withdraws a claim (a forget) is
    /// seen by the dispatcher after the claim. A rollback gives the room back. Room is reserved
    /// only when there is something to claim, so a batch with nothing leaves it to the next.
    /// Nothing may throw after this in the transaction (or its savepoint).
    static func handOver(_ db: Database, _ batch: inout PipelineBatch, to handoff: ClaimHandoff, now: Date) throws {
        guard batch.readyFirstByChannel.values.contains(where: { $0 > 0 }) else { return }
        let room = handoff.reserve()
        guard !room.isEmpty else { return }
        let claimed: [OutboxMessage]
        do {
            claimed = try claimForHandoff(db, &batch, room: room, now: now, lease: handoff.lease, owner: handoff.owner)
        } catch {
            handoff.giveBack(room)
            throw error
        }
        db.afterNextTransaction(onCommit: { _ in handoff.deliver(claimed, reserved: room) }, onRollback: { _ in handoff.giveBack(room) })
    }

    /// Claims for the local dispatcher, within the room it offered, on the channels the batch
    /// made first-priority messages ready on: only what must go out first (acknowledgements,
    /// apologies), the longest due first. The rest the dispatcher claims itself: a claim costs
    /// the pipeline's transaction time, and only these are waited for by a customer who just
    /// wrote in.
    static func claimForHandoff(_ db: Database, _ batch: inout PipelineBatch, room: [Channel: Int], now: Date, lease: TimeInterval,
                                owner: String) throws -> [OutboxMessage] {
        var claimed: [OutboxMessage] = []
        for (channel, limit) in room.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where batch.readyFirstByChannel[channel, default: 0] > 0 {
            let messages = try claim(db, channel: channel, limit: limit, now: now, lease: lease, owner: owner, firstOnly: true)
            batch.handedOff[channel] = messages.count
            batch.handoffRoom[channel] = limit
            claimed += messages
        }
        return claimed
    }

    public func nextWaitEnd() async throws -> Date? {
        try await read("reading when the next wait ends") { db in try Self.nextWaitEnd(db) }
    }

    public func retriesRequested() async throws -> Bool {
        try await read("looking for requested retries") { db in try Self.retriesRequested(db) }
    }

    public func retryRequested(engine: WorkflowEngine, now: @escaping @Sendable () -> Date) async throws -> [HeldRetry] {
        try retryRequested(engine: engine, now: now())
    }
}

extension Store: TimerStore {
    public func fireDueTimers(now: Date, limit: Int) async throws -> TimerFiring {
        try await write("firing due deadline timers") { db in try Self.fireDueTimers(db, now: now, limit: limit) }
    }

    public func nextTimer() async throws -> DeadlineTimer? {
        try await read("reading the next timer") { db in try Self.nextTimer(db) }
    }

    public func simulatedTime() async throws -> Date? {
        try await read("reading the simulated time") { db in try Self.simulatedTime(db) }
    }

    public func acknowledgeSimulatedTime(_ time: Date) async throws {
        try await write("acknowledging the simulated time") { db in try Self.acknowledgeSimulatedTime(db, time) }
    }
}
