import Foundation
import GRDB
import PostgresNIO
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres
import TidingsStore

/// The pipeline on PostgreSQL against the SQLite backend's: the example day, its deadlines a
/// day, a week and two months later, gives the same outbox, read models and timers on both.
@Suite("PostgreSQL: the pipeline, against SQLite's", .timeLimit(.minutes(5)))
struct PostgresPipelineTests {
    static let start = Timestamp.parse("2026-11-18T12:00:00Z")!
    static let jumps: [TimeInterval] = [86_400, 7 * 86_400, 60 * 86_400]

    static func runtime() throws -> Runtime {
        var config = TidingsConfig()
        config.workflowsPath = PostgresTestCluster.root.appendingPathComponent("config/workflows.yaml").path
        config.templatesDirectory = PostgresTestCluster.root.appendingPathComponent("config/templates").path
        return try Runtime.load(config: config)
    }

    /// The example day, validated as ingest would.
    static func day() throws -> [CloudEvent] {
        let text = try String(contentsOf: PostgresTestCluster.root.appendingPathComponent("config/examples/day.ndjson"), encoding: .utf8)
        return try text.split(separator: "\n").map { try EventValidator.validate(try JSONValue.parse(Array($0.utf8))).get() }
    }

    /// One line per message, model and timer, comparable across backends.
    struct Outcome: Equatable {
        var messages: [String] = []
        var models: [String] = []
        var timers: [String] = []
        var held: [String] = []
    }

    /// What the pipeline made after the day, and after each jump of the clock.
    static func sqlite(_ events: [CloudEvent], _ runtime: Runtime) throws -> [Outcome] {
        try projectedOnSQLite(events, runtime).stages
    }

    static func projectedOnSQLite(_ events: [CloudEvent], _ runtime: Runtime, jumps: [TimeInterval] = jumps) throws -> (stages: [Outcome], store: Store) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-both-\(UUID().uuidString)/t.sqlite").path
        let store = try Store(path: path, durability: .normal)
        _ = try store.append(events, now: start)
        func drain(_ now: Date) throws {
            while true {
                let batch = try store.processBatch(limit: 7, engine: runtime.engine, now: now, fanoutLimit: 3)
                if batch.processed == 0 && !batch.fanoutPending { return }
            }
        }
        try drain(start)
        var stages = [try outcome(store)]
        for jump in jumps {
            let now = start.addingTimeInterval(jump)
            while try store.fireDueTimers(now: now).timers > 0 {}
            try drain(now)
            stages.append(try outcome(store))
        }
        return (stages, store)
    }

    static func outcome(_ store: Store) throws -> Outcome {
        try store.pool.read { db in
            Outcome(
                messages: try Row.fetchAll(db, sql: """
                    SELECT key, workflow, state, channel, recipient, last_error, due_at, priority, event_position, c.context
                    FROM messages JOIN message_contexts c ON c.message_id = messages.id ORDER BY key
                    """).map { row in Self.line(row.databaseValues.map(\.description)) },
                models: try ["customers", "orders", "tickets"].flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT id, doc, position FROM \(table) ORDER BY id").map { row in
                        Self.line([table, row["id"], String(decoding: row["doc"] as Data, as: UTF8.self), "\(row["position"] as Int64)"])
                    }
                },
                timers: try Row.fetchAll(db, sql: "SELECT type, subject, due_at, scheduled_by FROM timers ORDER BY type, subject")
                    .map { Self.line($0.databaseValues.map(\.description)) },
                held: try Row.fetchAll(db, sql: "SELECT position, kind, reason FROM held_events ORDER BY position").map { Self.line($0.databaseValues.map(\.description)) })
        }
    }

    static func postgres(_ events: [CloudEvent], _ runtime: Runtime, _ backend: PostgresBackend, jumps: [TimeInterval] = jumps) async throws
        -> [Outcome]
    {
        let log = PostgresLog(backend: backend)
        let pipeline = PostgresPipeline(log: log)
        let timers = PostgresTimers(log: log)
        _ = try await log.append(batches: [events], now: start)
        func drain(_ now: Date) async throws {
            while true {
                let batch = try await pipeline.processBatch(limit: 7, engine: runtime.engine, now: { now }, fanoutLimit: 3)
                if batch.processed == 0 && !batch.fanoutPending { return }
            }
        }
        try await drain(start)
        var stages = [try await outcome(backend)]
        for jump in jumps {
            let now = start.addingTimeInterval(jump)
            while try await timers.fireDueTimers(now: now, limit: 1000).timers > 0 {}
            try await drain(now)
            stages.append(try await outcome(backend))
        }
        return stages
    }

    static func outcome(_ backend: PostgresBackend) async throws -> Outcome {
        try await backend.connection("reading what the pipeline made") { connection in
            var outcome = Outcome()
            for try await row in try await connection.query("""
                SELECT key, workflow, state, channel, recipient, last_error, due_at, priority, event_position, context FROM messages ORDER BY key
                """, logger: backend.logger) {
                let (key, workflow, state, channel, recipient, error, due, priority, position, context) =
                    try row.decode((String, String, String, String?, String?, String?, Double, Int64, Int64, Data).self)
                outcome.messages.append(Self.line([Self.sql(key), Self.sql(workflow), Self.sql(state), Self.sql(channel), Self.sql(recipient), Self.sql(error), Self.sql(due),
                                                   "\(priority)", "\(position)", Self.blob(context)]))
            }
            for table in ["customers", "orders", "tickets"] {
                for try await (id, doc, position) in try await connection.query(PostgresQuery(unsafeSQL: "SELECT id, doc, position FROM \(table) ORDER BY id"),
                                                                                  logger: backend.logger).decode((String, Data, Int64).self) {
                    outcome.models.append(Self.line([table, id, String(decoding: doc, as: UTF8.self), "\(position)"]))
                }
            }
            for try await (type, subject, due, by) in try await connection.query("""
                SELECT type, subject, due_at, scheduled_by FROM timers ORDER BY type, subject
                """, logger: backend.logger).decode((String, String, Double, Int64).self) {
                outcome.timers.append(Self.line([Self.sql(type), Self.sql(subject), Self.sql(due), "\(by)"]))
            }
            for try await (position, kind, reason) in try await connection.query("SELECT position, kind, reason FROM held_events ORDER BY position",
                                                                                   logger: backend.logger).decode((Int64, String, String).self) {
                outcome.held.append(Self.line(["\(position)", Self.sql(kind), Self.sql(reason)]))
            }
            return outcome
        }
    }

    /// As GRDB describes a value, so both sides read alike.
    static func sql(_ text: String?) -> String { text.map { DatabaseValue(value: $0)!.description } ?? "NULL" }
    static func sql(_ number: Double) -> String { DatabaseValue(value: number)!.description }
    static func blob(_ data: Data) -> String { DatabaseValue(value: data)!.description }
    static func line(_ fields: [String]) -> String { fields.joined(separator: " | ") }

    /// Each stage on PostgreSQL against the same stage on SQLite, saying what differs.
    static func expectSame(_ stages: [Outcome], _ expected: [Outcome]) {
        for (outcome, expected) in zip(stages, expected) {
            #expect(outcome.messages == expected.messages, "\(difference(outcome.messages, expected.messages))")
            #expect(outcome.models == expected.models, "\(difference(outcome.models, expected.models))")
            #expect(outcome.timers == expected.timers, "\(difference(outcome.timers, expected.timers))")
            #expect(outcome.held == expected.held, "\(difference(outcome.held, expected.held))")
        }
    }

    /// What only PostgreSQL has, and what only SQLite has.
    static func difference(_ postgres: [String], _ sqlite: [String]) -> String {
        "only on PostgreSQL: \(postgres.filter { !sqlite.contains($0) })\nonly on SQLite: \(sqlite.filter { !postgres.contains($0) })"
    }

    @Test func theExampleDayGivesTheSameOutboxModelsAndTimers() async throws {
        let runtime = try Self.runtime()
        let events = try Self.day()
        let expected = try Self.sqlite(events, runtime)
        #expect(expected.count == 4 && expected[0].messages.count > 30 && !expected[0].timers.isEmpty, "\(expected.map(\.messages.count)) \(expected.map(\.timers.count))")
        try await PostgresTestCluster.withDatabase { backend in
            let stages = try await Self.postgres(events, runtime, backend)
            Self.expectSame(stages, expected)
        }
    }

    /// A disruption over 150 orders of 60 customers, told a few orders per batch between
    /// later events about some of them: the same messages, models and timers as on SQLite.
    @Test func aDisruptionIsToldAsOnSQLite() async throws {
        let runtime = try Self.runtime()
        var events: [CloudEvent] = []
        for customer in 0..<60 {
            events.append(CloudEvent(id: "c\(customer)", source: "urn:t", type: "customer.registered", subject: "c-\(customer)", time: Self.start,
                                     data: ["name": .string("Customer \(customer)"), "email": .string("c\(customer)@example.com"), "locale": "en"]))
            for order in 0..<(customer % 3 + 1) {
                events.append(CloudEvent(id: "o\(customer)-\(order)", source: "urn:t", type: "order.placed", subject: "o-\(customer)-\(order)",
                                         time: Self.start, data: ["customer_id": .string("c-\(customer)"), "total": 10, "currency": "EUR",
                                                                  "items": [["sku": "S", "name": "Mug", "quantity": 1, "unit_price": 10]],
                                                                  "shipping": ["region": customer % 4 == 0 ? "Hamburg" : "berlin"]]))
            }
        }
        events.append(CloudEvent(id: "d1", source: "urn:t", type: "shipping.disruption_announced", subject: nil, time: Self.start,
                                 data: ["region": "Berlin", "reason": "Storm", "new_estimate": "2026-11-25"]))
        for customer in stride(from: 1, to: 60, by: 7) {
            events.append(CloudEvent(id: "s\(customer)", source: "urn:t", type: "order.shipped", subject: "o-\(customer)-0", time: Self.start,
                                     data: ["carrier": "DHL", "tracking_number": .string("T\(customer)")]))
        }
        let validated = try events.map { try EventValidator.validate($0.raw).get() }
        let expected = try Self.sqlite(validated, runtime)
        #expect(expected[0].messages.filter { $0.contains("disruption") }.count >= 45)
        try await PostgresTestCluster.withDatabase { backend in
            let stages = try await Self.postgres(validated, runtime, backend)
            Self.expectSame(stages, expected)
        }
    }

    /// Delivery receipts (delivered, a hard bounce that closes an address, a complaint) move
    /// the same messages to the same states on both backends, and suppress the same addresses.
    @Test func receiptsMoveMessagesAsOnSQLite() async throws {
        let runtime = try Self.runtime()
        let day = try Self.day()
        let (_, first) = try Self.projectedOnSQLite(day, runtime, jumps: [])
        let targets = try first.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT key, customer_id, channel, recipient FROM messages WHERE channel IN ('email', 'sms') AND state = 'pending' ORDER BY key LIMIT 8
                """)
        }
        #expect(targets.count == 8)
        let statuses = ["delivered", "delivered", "delivered", "bounced", "bounced", "complained", "failed", "delivered"]
        let receipts = try zip(targets, statuses).enumerated().map { index, pair in
            let (row, status) = pair
            var data: JSONValue = ["customer_id": .string(row["customer_id"]), "channel": .string(row["channel"]), "provider": "test",
                                   "address": .string(row["recipient"] ?? ""), "reason": "as the test says"]
            if status == "bounced" { data["kind"] = "hard" }
            let event = CloudEvent(id: "receipt-\(index)", source: "urn:test:receipts", type: "message.\(status)", subject: row["key"],
                                   time: Self.start, data: data)
            return try EventValidator.validate(event.raw).get()
        }
        // The messages were sent (as a dispatcher records it), then the receipts came.
        let keys = targets.map { $0["key"] as String }
        let store = try Store(path: FileManager.default.temporaryDirectory.appendingPathComponent("tidings-receipts-\(UUID().uuidString)/t.sqlite").path,
                              durability: .normal)
        _ = try store.append(day, now: Self.start)
        while try store.processBatch(limit: 7, engine: runtime.engine, now: Self.start, fanoutLimit: 3).processed > 0 {}
        let list = keys.map { "'\($0)'" }.joined(separator: ", ")  // keys are [a-z_.0-9]: nothing to escape
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE messages SET state = 'sent', sent_at = \(Self.start.timeIntervalSince1970) WHERE key IN (\(list))")
        }
        _ = try store.append(receipts, now: Self.start)
        while try store.processBatch(limit: 7, engine: runtime.engine, now: Self.start, fanoutLimit: 3).processed > 0 {}
        let expected = try Self.outcome(store)
        #expect(expected.messages.filter { $0.contains("\"delivered\"") || $0.contains("\"bounced\"") }.count >= 5)
        #expect(expected.models.contains { $0.contains("\"suppressed\":[{") })
        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            let pipeline = PostgresPipeline(log: log)
            _ = try await log.append(batches: [day], now: Self.start)
            while try await pipeline.processBatch(limit: 7, engine: runtime.engine, now: { Self.start }, fanoutLimit: 3).processed > 0 {}
            try await backend.transaction("sending in a test") { connection in
                try await connection.query("""
                    UPDATE messages SET state = 'sent', sent_at = \(Self.start.timeIntervalSince1970) WHERE key = ANY(\(keys)::text[])
                    """, logger: backend.logger)
            }
            _ = try await log.append(batches: [receipts], now: Self.start)
            while try await pipeline.processBatch(limit: 7, engine: runtime.engine, now: { Self.start }, fanoutLimit: 3).processed > 0 {}
            let outcome = try await Self.outcome(backend)
            #expect(outcome.messages == expected.messages, "\(Self.difference(outcome.messages, expected.messages))")
            #expect(outcome.models == expected.models, "\(Self.difference(outcome.models, expected.models))")
            #expect(outcome.held == expected.held, "\(Self.difference(outcome.held, expected.held))")
        }
    }

    /// Two instances' pipelines at once: one applies each batch, the other waits its turn;
    /// every event is applied once.
    @Test func twoInstancesApplyTheLogOnce() async throws {
        let runtime = try Self.runtime()
        let events = try Self.day()
        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            _ = try await log.append(batches: [events], now: Self.start)
            let settings = backend.settings
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await PostgresBackend.withRunning(settings) { own in
                            let pipeline = PostgresPipeline(log: PostgresLog(backend: own))
                            var applied = 0
                            while try await pipeline.checkpoint() < Int64(events.count) {
                                applied += try await pipeline.processBatch(limit: 3, engine: runtime.engine, now: { Self.start }, fanoutLimit: 3).processed
                            }
                            return applied
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(applied == events.count)
        }
    }
}
