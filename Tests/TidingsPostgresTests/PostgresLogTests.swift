import Foundation
import PostgresNIO
import Testing
import TidingsTestSupport
import TidingsCore
@testable import TidingsPostgres

@Suite("PostgreSQL: the log", .timeLimit(.minutes(5)))
struct PostgresLogTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func event(_ id: String, _ type: String = "order.shipped", subject: String? = "o-1", data: JSONValue = ["carrier": "DHL"])
        -> CloudEvent
    {
        CloudEvent(id: id, source: "urn:test", type: type, subject: subject, time: nil, data: data)
    }

    @Test func appendsAreIdempotentAndReadBackInOrder() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let log = PostgresLog(backend: database)
            let first = try await log.append(batches: [[Self.event("a"), Self.event("b"), Self.event("a")]], now: now)
            #expect(first.map(\.appended) == [2] && first.map(\.alreadyStored) == [1] && first[0].positions.isEmpty)
            let again = try await log.append(batches: [[Self.event("b"), Self.event("c", subject: nil)], [Self.event("c", subject: nil)]], now: now)
            #expect(again.map(\.appended) == [1, 0] && again.map(\.alreadyStored) == [1, 1])
            #expect(try await log.head() == 0)
            #expect(try await log.sequence() == 3)
            #expect(try await log.sequence() == 0)
            let read = try await log.events(after: 0, limit: 10).map { try $0.get() }
            #expect(read.map(\.position) == [1, 2, 3])
            #expect(read.map(\.event.id) == ["a", "b", "c"])
            #expect(read[2].event.subject == nil && read[0].event.subject == "o-1" && read[0].event.data["carrier"] == "DHL")
            #expect(try await log.events(after: 2, limit: 10).count == 1)
            #expect(try await log.head() == 3)
        }
    }

    /// The longest id and source validation lets through (256 characters of four bytes each)
    /// fit PostgreSQL's unique index on (source, id).
    @Test func theLongestAttributesFitTheIndex() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let longest = String(repeating: "😀", count: EventValidator.maximumAttributeLength)
            let event = CloudEvent(id: longest, source: longest, type: "order.shipped", subject: longest, time: nil, data: ["carrier": "DHL"])
            let log = PostgresLog(backend: database)
            let valid = try EventValidator.validate(event.raw).get()
            #expect(try await log.append(batches: [[valid]], now: now).map(\.appended) == [1])
            #expect(try await log.append(batches: [[event]], now: now).map(\.alreadyStored) == [1])
        }
    }

    @Test func migrationsRunOnceWhenInstancesStartTogether() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let settings = database.settings
            let names = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresBackend.withRunning(settings) { try await $0.migrate() } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(names.allSatisfy { $0 == PostgresSchema.migrations.map(\.name) })
        }
    }

    /// Personal fields are sealed with the customer's key; without the key they read as absent;
    /// an event about a forgotten customer is refused, with the whole request.
    @Test func personalDataIsSealedAndForgottenCustomersAreRefused() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let log = PostgresLog(backend: database)
            let registered = Self.event("r-1", "customer.registered", subject: "c-1",
                                        data: ["name": "Zelda Quux", "email": "zelda@example.com", "locale": "en"])
            _ = try await log.append(batches: [[registered]], now: now)
            try await log.sequence()
            let body = try await database.connection("test") { connection in
                var body = Data()
                for try await stored in try await connection.query("SELECT body FROM events", logger: database.logger).decode(Data.self) { body = stored }
                return body
            }
            #expect(!String(decoding: body, as: UTF8.self).contains("zelda"))
            #expect(try await log.events(after: 0, limit: 1).first?.get().event.data["email"] == "zelda@example.com")
            try await database.transaction("forgetting in a test") { connection in
                try await connection.query("DELETE FROM customer_keys WHERE customer_id = 'c-1'", logger: database.logger)
                try await connection.query("INSERT INTO forgotten VALUES ('customer:c-1', 'c-1', 0), ('order:o-9', 'c-1', 0)", logger: database.logger)
            }
            let forgotten = try #require(try await log.events(after: 0, limit: 1).first?.get().event)
            #expect(forgotten.data["email"] == nil && forgotten.data["locale"] == "en")
            let order = Self.event("s-9", subject: "o-9")
            let refused = try #require(try await log.append(batches: [[Self.event("fine"), order]], now: now).first)
            #expect(refused.refusal?.contains("order o-9 of customer c-1") == true && refused.appended == 0)
            // A re-sent event stored before the forget is a duplicate, not refused.
            #expect(try await log.append(batches: [[registered]], now: now).first?.refusal == nil)
            #expect(try await log.sequence() == 0)
        }
    }
}
