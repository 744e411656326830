import Foundation
import PostgresNIO
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres

/// `tidings events retry` on PostgreSQL: an event that cannot be applied is quarantined and the
/// others go on; once repaired, a retry applies it, and applies it once.
@Suite("PostgreSQL: retrying a quarantined event", .timeLimit(.minutes(3)))
struct PostgresRetryTests {
    let now = PostgresPipelineTests.start

    func events() throws -> [CloudEvent] {
        let raw: [CloudEvent] = [
            CloudEvent(id: "c1", source: "urn:retry", type: "customer.registered", subject: "c-1", time: now,
                       data: ["name": "Customer", "email": "c1@example.com", "locale": "en"]),
        ] + ["o-1", "o-2"].map { order in
            CloudEvent(id: order, source: "urn:retry", type: "order.placed", subject: order, time: now,
                       data: ["customer_id": "c-1", "total": 10, "currency": "EUR", "items": [["sku": "S", "name": "Mug", "quantity": 1, "unit_price": 10]],
                              "shipping": ["region": "Berlin"]])
        }
        return try raw.map { try EventValidator.validate($0.raw).get() }
    }

    static func subjects(_ backend: PostgresBackend) async throws -> [String] {
        try await backend.connection("listing messages") { connection in
            var subjects: [String] = []
            for try await subject in try await connection.query("""
                SELECT DISTINCT subject_id FROM messages WHERE subject_id LIKE 'o-%' ORDER BY subject_id
                """, logger: backend.logger).decode(String.self) { subjects.append(subject) }
            return subjects
        }
    }

    @Test func anUnreadableEventIsQuarantinedThenARetryAppliesItOnce() async throws {
        let runtime = try PostgresPipelineTests.runtime()
        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            let pipeline = PostgresPipeline(log: log)
            _ = try await log.append(batches: [try events()], now: now)
            try await log.sequence()
            let good = try await backend.transaction("breaking the event at position 2") { connection -> Data in
                var body = Data()
                for try await stored in try await connection.query("SELECT body FROM events WHERE position = 2", logger: backend.logger)
                    .decode(Data.self) { body = stored }
                try await connection.query("UPDATE events SET body = convert_to('null', 'UTF8') WHERE position = 2", logger: backend.logger)
                return body
            }
            let batch = try await pipeline.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 100)
            #expect(batch.checkpoint == 3 && batch.quarantined.map(\.key.position) == [2])
            #expect(try await Self.subjects(backend) == ["o-2"])
            let reads = PostgresReads(backend: backend)
            #expect(try await reads.heldEvents(kind: .quarantined, limit: 10).first?.reason.contains("not a readable CloudEvent") == true)

            // Nothing asked yet: nothing applied.
            #expect(try await pipeline.retryRequested(engine: runtime.engine, now: { now }).isEmpty)
            try await backend.transaction("repairing it") { connection in
                try await connection.query("UPDATE events SET body = \(good) WHERE position = 2", logger: backend.logger)
            }
            #expect(try await pipeline.requestRetry(position: 2) == 1)
            #expect(try await pipeline.retriesRequested())
            #expect(try await pipeline.retryRequested(engine: runtime.engine, now: { now }).map(\.failure) == [nil])
            #expect(try await reads.heldEvents(kind: nil, limit: 10).isEmpty)
            #expect(try await Self.subjects(backend) == ["o-1", "o-2"])
            // Asked again, as a second process might: it is applied already, and stays applied once.
            #expect(try await pipeline.requestRetry(position: 2) == 0)
            #expect(try await pipeline.retryRequested(engine: runtime.engine, now: { now }).isEmpty)
        }
    }

    /// An order held under a disruption and closed since has nothing to be told: the retry
    /// says so, and leaves no fan-out behind (which would keep the pipeline busy for good).
    @Test func aDisruptionOrderClosedSinceStaysQuarantinedAndLeavesNoFanOut() async throws {
        let runtime = try PostgresPipelineTests.runtime()
        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            let pipeline = PostgresPipeline(log: log)
            var all = try events()
            all += try [
                CloudEvent(id: "d1", source: "urn:retry", type: "order.delivered", subject: "o-1", time: now, data: [:]),
                CloudEvent(id: "x1", source: "urn:retry", type: "shipping.disruption_announced", subject: nil, time: now,
                           data: ["region": "Berlin", "reason": "Storm", "new_estimate": "2026-11-25"]),
            ].map { try EventValidator.validate($0.raw).get() }
            _ = try await log.append(batches: [all], now: now)
            while try await pipeline.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 100).processed > 0 {}
            try await backend.transaction("holding o-1 under the disruption") { connection in
                try await connection.query("""
                    INSERT INTO held_events (position, scope, kind, reason, held_at) VALUES (5, 'o-1', 'quarantined', 'a test', 0)
                    """, logger: backend.logger)
            }
            #expect(try await pipeline.requestRetry(position: 5) == 1)
            let outcome = try await pipeline.retryRequested(engine: runtime.engine, now: { now })
            #expect(outcome.map(\.key) == [HeldEvent.Key(position: 5, order: "o-1")])
            #expect(outcome.first?.failure?.contains("no longer open") == true, "\(outcome)")
            let fanout = try await backend.connection("counting the fan-out") { connection in
                for try await count in try await connection.query("SELECT count(*) FROM fanout", logger: backend.logger).decode(Int.self) { return count }
                return -1
            }
            #expect(fanout == 0)
            #expect(try await pipeline.retriesRequested() == false)
        }
    }
}
