import Foundation
import PostgresNIO
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres
import TidingsStore

/// `tidings rebuild` on PostgreSQL against SQLite's: after the example day (a week of its
/// deadlines fired), models and timers made again from the log are the same on both, and the
/// outbox is not touched.
@Suite("PostgreSQL: rebuilding the read models, against SQLite", .timeLimit(.minutes(3)))
struct PostgresRebuildTests {
    typealias Pipeline = PostgresPipelineTests

    @Test func aRebuildMakesTheSameModelsAndTimersAsOnSQLite() async throws {
        let runtime = try Pipeline.runtime()
        let events = try Pipeline.day()
        let jumps: [TimeInterval] = [86_400, 7 * 86_400]
        let now = Pipeline.start.addingTimeInterval(jumps.last ?? 0)
        let (stages, store) = try Pipeline.projectedOnSQLite(events, runtime, jumps: jumps)
        let sqlite = try store.rebuild(engine: runtime.engine, now: now)
        let expected = try Pipeline.outcome(store)
        #expect(expected.models == stages.last?.models && expected.messages == stages.last?.messages)

        try await PostgresTestCluster.withDatabase { backend in
            let before = try await Pipeline.postgres(events, runtime, backend, jumps: jumps)
            // Damage what a rebuild makes again: a customer gone, an order changed, a timer lost.
            try await backend.transaction("damaging the models") { connection in
                try await connection.query("DELETE FROM customers WHERE id = 'c-1001'", logger: backend.logger)
                try await connection.query("UPDATE orders SET doc = convert_to('{}', 'UTF8') WHERE id = 'o-5002'", logger: backend.logger)
                try await connection.query("DELETE FROM timers WHERE ctid IN (SELECT ctid FROM timers LIMIT 1)", logger: backend.logger)
            }
            let summary = try await PostgresPipeline(log: PostgresLog(backend: backend)).rebuild(engine: runtime.engine, now: now)
            #expect(summary.events == sqlite.events && summary.customers == sqlite.customers && summary.orders == sqlite.orders
                    && summary.tickets == sqlite.tickets && summary.timers == sqlite.timers, "\(summary) against \(sqlite)")
            let after = try await Pipeline.outcome(backend)
            Pipeline.expectSame([after], [expected])
            #expect(after.messages == before.last?.messages, "the outbox is not touched")
        }
    }
}
