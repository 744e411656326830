import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// Where the pipeline applies the log on PostgreSQL. Every instance runs a pipeline service;
/// each batch is one transaction that first takes the pipeline's advisory lock without
/// waiting, so one projector applies batches at a time, and when its instance dies (its
/// transaction is gone, and the lock with it) the next instance's next poll carries on from the
/// checkpoint.
public struct PostgresPipeline: PipelineStore {
    let log: PostgresLog

    public init(log: PostgresLog) {
        self.log = log
    }

    var backend: PostgresBackend { log.backend }
    var logger: Logger { backend.logger }

    /// Gives the new events their positions first: what the pipeline reads next.
    public func head() async throws -> Int64 {
        try await log.sequence()
        return try await log.head()
    }

    public func checkpoint() async throws -> Int64 {
        try await backend.connection("reading the checkpoint") { connection in
            try await PostgresPipelineRun.checkpoint(on: connection, logger: logger)
        }
    }

    /// The batch's claims for the dispatcher (`handoff`) are not made on PostgreSQL yet: the
    /// dispatchers claim for themselves, which the batch's counts tell them to do.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                             handoff: ClaimHandoff?) async throws -> PipelineBatch {
        try await log.sequence(limit: max(limit, 1_000))
        var setAside: [HeldEvent.Key: String] = [:]
        while true {
            do {
                return try await backend.transaction("applying a pipeline batch") { connection in
                    guard try await Self.lead(on: connection, logger: logger) else {
                        // Another instance's pipeline is applying a batch.
                        var batch = PipelineBatch()
                        batch.ledElsewhere = true
                        batch.checkpoint = try await PostgresPipelineRun.checkpoint(on: connection, logger: logger)
                        return batch
                    }
                    var run = PostgresPipelineRun(connection: connection, log: log, engine: engine, now: now(), setAside: setAside)
                    var batch = try await run.run(limit: limit, fanoutLimit: fanoutLimit, yielding: yielding)
                    // For the loop's next turn, as on SQLite: whether more is waiting, and when a
                    // wait runs out (a parked message with nothing else coming must still expire).
                    batch.head = try await Self.head(on: connection, logger: logger)
                    batch.nextWaitEnd = try await Self.nextWaitEnd(on: connection, logger: logger)
                    return batch
                }
            } catch let failure as EventFailure {
                guard setAside[failure.key] == nil else {
                    throw PostgresBackendError(.writeFailed, "cannot quarantine the event at position \(failure.key.position): \(failure.reason)")
                }
                setAside[failure.key] = failure.reason
            }
        }
    }

    /// Takes the pipeline's lock for this transaction, if no other instance holds it.
    static func lead(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await taken in try await connection.run("SELECT pg_try_advisory_xact_lock(\(AdvisoryLock.pipeline.rawValue))", logger: logger)
            .decode(Bool.self) { return taken }
        return false
    }

    public func nextWaitEnd() async throws -> Date? {
        try await backend.connection("reading when the next wait ends") { connection in try await Self.nextWaitEnd(on: connection, logger: logger) }
    }

    static func nextWaitEnd(on connection: PostgresConnection, logger: Logger) async throws -> Date? {
        let rows = try await connection.run("""
            SELECT MIN(t) FROM (
                SELECT MIN(due_at) AS t FROM messages WHERE state = \(MessageState.parked.rawValue)
                UNION ALL
                SELECT MIN(expires_at) FROM held_events WHERE kind = \(HeldEvent.Kind.waiting.rawValue)) waits
            """, logger: logger)
        for try await end in rows.decode(Double?.self) { return end.map(Date.init(timeIntervalSince1970:)) }
        return nil
    }

    static func head(on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await head in try await connection.run("SELECT COALESCE(MAX(position), 0) FROM events", logger: logger).decode(Int64.self) {
            return head
        }
        return 0
    }

    public func retriesRequested() async throws -> Bool {
        try await backend.connection("looking for requested retries") { connection in
            for try await any in try await connection.run("SELECT EXISTS (SELECT 1 FROM held_events WHERE retry_requested)", logger: logger)
                .decode(Bool.self) { return any }
            return false
        }
    }

}
