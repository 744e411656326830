import Foundation
import PostgresNIO
import TidingsCore

/// What an import into PostgreSQL stored and made.
public struct PostgresImport: Sendable {
    public var appended = 0
    public var alreadyStored = 0
    public var customers = 0
    public var orders = 0
    public var tickets = 0
    public var timers = 0
    /// Events that could not be applied, held as the pipeline would have held them.
    public var quarantined = 0
}

extension PostgresPipeline {
    /// Loads an export into an empty database in ONE transaction, all of it or none: the events
    /// (`next` gives them a chunk at a time, with when each was recorded, nil at the end), their
    /// positions in the file's order, and the read models and deadline timers replayed from
    /// them with the pipeline's own rules (`Replay`). The history counts as applied (the
    /// checkpoint is at its end): its messages went out from the database it came from, so
    /// nothing is sent again, and what comes next is told as it would have been there.
    public func importLog(_ next: () throws -> [(event: CloudEvent, recordedAt: Date)]?, engine: WorkflowEngine, now: Date) async throws
        -> PostgresImport
    {
        try await backend.transaction("importing events") { connection in
            // Positions are given here, not by the sequencer: the lock keeps it out meanwhile, and
            // the table's lock keeps out appends from a daemon still running (they would be
            // numbered into the history and counted as applied).
            try await connection.run("LOCK TABLE events IN EXCLUSIVE MODE", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.sequencer.rawValue))", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.pipeline.rawValue))", logger: logger)
            var existing: Int64 = 0
            for try await count in try await connection.run("SELECT COUNT(*) FROM events", logger: logger).decode(Int64.self) { existing = count }
            guard existing == 0 else {
                throw PostgresBackendError(.writeFailed, "the log is not empty (\(existing) events): import only into a new database")
            }
            var summary = PostgresImport()
            while let chunk = try next() {
                let result = try await log.append(chunk.map(\.event), now: now, recordedAt: chunk.map(\.recordedAt), on: connection)
                if let refusal = result.refusal { throw PostgresBackendError(.writeFailed, refusal) }
                summary.appended += result.appended
                summary.alreadyStored += result.alreadyStored
            }
            try await connection.run("""
                UPDATE events e SET position = n.position
                FROM (SELECT entry, row_number() OVER (ORDER BY entry) AS position FROM events) n WHERE e.entry = n.entry
                """, logger: logger)
            var replay = Replay(engine: engine)
            var after: Int64 = 0
            while true {
                let page = try await log.events(after: after, limit: 2_000, on: connection)
                guard let last = page.last else { break }
                for (index, result) in page.enumerated() {
                    let position = after + Int64(index) + 1
                    do {
                        _ = try replay.apply(try result.get(), now: now)
                    } catch {
                        // As the pipeline would: set aside, saying why, and the rest applied.
                        replay.skipping.insert(HeldEvent.Key(position: position))
                        try await connection.run("""
                            INSERT INTO held_events (position, scope, kind, reason, held_at)
                            VALUES (\(position), '', \(HeldEvent.Kind.quarantined.rawValue), \("\(error)"), \(now.timeIntervalSince1970))
                            """, logger: logger)
                        summary.quarantined += 1
                    }
                }
                after = (try? last.get().position) ?? after + Int64(page.count)
            }
            // Only deadlines still to come, as a rebuild keeps them: one already past fired in the
            // old database (or would now send an apology for history).
            let timers = replay.timers.filter { $0.value.dueAt > now.timeIntervalSince1970 }
                .sorted { ($0.key.type, $0.key.subject) < ($1.key.type, $1.key.subject) }
            try await PostgresModels.write(replayed: replay, timers: timers, on: connection, logger: logger)
            try await connection.run("""
                INSERT INTO checkpoints (name, position) VALUES (\(PostgresPipelineRun.checkpointName), \(after))
                ON CONFLICT (name) DO UPDATE SET position = excluded.position
                """, logger: logger)
            summary.customers = replay.customers.count
            summary.orders = replay.orders.count
            summary.tickets = replay.tickets.count
            summary.timers = timers.count
            return summary
        }
    }
}
