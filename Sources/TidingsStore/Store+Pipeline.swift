import Foundation
import GRDB
import TidingsCore

extension Store {
    static let pipelineCheckpoint = "pipeline"
    /// Counted up by each `tidings rebuild`, so a running pipeline drops the models it cached.
    static let readModelsGeneration = "read-models"

    /// Applies the next batch of events in ONE write transaction: read models, workflow
    /// intents into the outbox, deadline timers, and the checkpoint commit together or not at
    /// all, so an event is never half-applied and never applied twice. Then it tells up to
    /// `fanoutLimit` orders about a disruption, in the same transaction.
    ///
    /// An event that cannot be applied does not stop the pipeline: the batch is rolled back
    /// and done again with that event quarantined (`heldEvents`), until it goes through.
    /// `now` decides quiet hours and ends waits; it is read inside the transaction, so an
    /// event appended after a clock change is applied at the new time.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: @autoclosure () -> Date, fanoutLimit: Int = 1000) throws -> PipelineBatch {
        var setAside: [HeldEvent.Key: String] = [:]
        while true {
            do {
                return try write("applying a pipeline batch") { db in
                    var run = try PipelineRun(db: db, engine: engine, now: now(), cache: models, setAside: setAside)
                    sealingKeys.observe(generation: run.generation)
                    let batch = try run.run(limit: limit, fanoutLimit: fanoutLimit)
                    models.commit(run.loaded, after: db)
                    return batch
                }
            } catch let failure as EventFailure {
                try Self.setAside(failure, in: &setAside)
            }
        }
    }

    /// The batch failed on one event: the next attempt quarantines it. Each attempt sets aside
    /// one more event, so this ends; the same one twice would mean the quarantine itself fails.
    static func setAside(_ failure: EventFailure, in setAside: inout [HeldEvent.Key: String]) throws {
        guard setAside[failure.key] == nil else {
            throw StoreError(.writeFailed, "cannot quarantine the event at position \(failure.key.position): \(failure.reason)")
        }
        setAside[failure.key] = failure.reason
    }

    /// After `tidings import` into a new database: the history counts as applied, since its
    /// messages went out from the database it came from; `rebuild` then makes the read models
    /// and timers from it. Only while nothing was applied yet.
    public func skipPipeline(to position: Int64) throws {
        try write("marking the imported log as applied") { db in
            guard try Self.checkpoint(db, Self.pipelineCheckpoint) == 0 else {
                throw StoreError(.invalidRequest, "the pipeline has applied events in this database already: import only into a new one")
            }
            try Self.setCheckpoint(db, Self.pipelineCheckpoint, position)
        }
    }

    /// The position up to which the pipeline has applied the log.
    public func checkpoint() throws -> Int64 {
        try read("reading the checkpoint") { db in try Self.checkpoint(db, Self.pipelineCheckpoint) }
    }

    static func checkpoint(_ db: Database, _ name: String) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT position FROM checkpoints WHERE name = ?"), arguments: [name]) ?? 0
    }

    static func setCheckpoint(_ db: Database, _ name: String, _ position: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO checkpoints (name, position) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET position = excluded.position
            """).execute(arguments: [name, position])
    }
}

extension OutboxWriter {
    /// Parked messages whose wait ran out are skipped, with the reason. Returns how many.
    /// Through `messages_parked`, by due time: SQLite otherwise walked every parked message.
    func expireParked() throws -> Int {
        try db.cachedStatement(sql: """
            UPDATE messages INDEXED BY messages_parked SET state = '\(MessageState.skipped.rawValue)', updated_at = ?1,
                last_error = '\(OutboxPlacement.parkExpired.before)' || customer_id || '\(OutboxPlacement.parkExpired.after)'
            WHERE state = '\(MessageState.parked.rawValue)' AND due_at <= ?1
            """).execute(arguments: [now])
        return db.changesCount
    }

    /// Whether any message is parked for its customer (one probe of `messages_parked`).
    func anyParked() throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM messages WHERE state = '\(MessageState.parked.rawValue)')")) ?? true
    }

    /// A parked message that cannot be routed is skipped with the reason.
    func skipParked(_ id: Int64, reason: String) throws {
        try db.cachedStatement(sql: """
            UPDATE messages SET state = '\(MessageState.skipped.rawValue)', last_error = ?, updated_at = ? WHERE id = ?
            """).execute(arguments: [reason, now, id])
    }
}
