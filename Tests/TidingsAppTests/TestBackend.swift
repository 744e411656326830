import Foundation
import GRDB
import PostgresNIO
import TidingsApp
import TidingsCore
@testable import TidingsPostgres
import TidingsStore
import TidingsTestSupport

/// The two backends, for the tests that run on each: a fresh database of the kind, with events
/// appended and projected, seen through the protocols the daemon uses.
enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { rawValue }

    /// What a test drives: the outbox, the reads, and the settings that point a command at it.
    struct Opened {
        var outbox: any OutboxQueue
        var reads: any ReadQueries
        var environment: [String: String]
        /// Runs a statement as it is, to damage a row on purpose.
        var execute: @Sendable (String) async throws -> Void
    }

    /// Runs `body` on a new database of this kind (SQLite: the file `environment` names) with
    /// `events` appended and applied by the pipeline at `now`.
    func with<Result: Sendable>(_ environment: [String: String], runtime: Runtime, events: [CloudEvent], now: Date,
                                _ body: (Opened) async throws -> Result) async throws -> Result {
        switch self {
        case .sqlite:
            let store = try Store(path: runtime.config.databasePath, durability: .normal)
            _ = try store.append(events, now: now)
            _ = try store.processBatch(limit: 1_000, engine: runtime.engine, now: now)
            return try await body(Opened(outbox: store, reads: store, environment: environment,
                                         execute: { sql in try await store.pool.write { db in try db.execute(sql: sql) } }))
        case .postgres:
            let name = try await PostgresTestCluster.newDatabase()
            let settings = try await PostgresTestCluster.settings(database: name)
            return try await PostgresBackend.withRunning(settings) { backend in
                try await backend.migrate()
                let log = PostgresLog(backend: backend)
                _ = try await log.append(batches: [events], now: now)
                let pipeline = PostgresPipeline(log: log)
                while try await pipeline.processBatch(limit: 1_000, engine: runtime.engine, now: { now }, fanoutLimit: 1_000).processed > 0 {}
                return try await body(Opened(outbox: PostgresOutbox(backend: backend), reads: PostgresReads(backend: backend),
                                             environment: environment.merging([
                                                 "DATABASE_URL": "postgres://tidings@127.0.0.1:\(settings.port)/\(name)?sslmode=disable",
                                                 "DATABASE_PASSWORD": PostgresTestCluster.password,
                                             ]) { $1 }, execute: { sql in
                                                 try await backend.transaction("damaging a row") { connection in
                                                     _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: backend.logger)
                                                 }
                                             }))
            }
        }
    }
}
