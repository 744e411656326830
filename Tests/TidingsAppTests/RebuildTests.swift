import Foundation
import GRDB
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// `tidings rebuild`: the read models and timers made again from the log must be the ones the
/// pipeline made event by event, the outbox must not move, and the pipeline must carry on on
/// the new tables without what it had cached from the old ones.
@Suite("Rebuilding the read models from the log")
struct RebuildTests {
    /// Every row of the rebuilt tables and the outbox, as text, in a fixed order.
    static func tables(_ store: Store) throws -> [String: [String]] {
        try store.pool.read { db in
            var tables: [String: [String]] = [:]
            for (name, order) in [("customers", "id"), ("orders", "id"), ("tickets", "id"), ("timers", "type, subject"),
                                  ("messages", "id"), ("checkpoints WHERE name <> 'read-models'", "name")] {
                tables[name] = try Row.fetchAll(db, sql: "SELECT * FROM \(name) ORDER BY \(order)").map { row in
                    row.columnNames.map { column in
                        let value = row[column] as DatabaseValue
                        if case .blob(let data) = value.storage { return "\(column)=\(String(decoding: data, as: UTF8.self))" }
                        return "\(column)=\(value)"
                    }.joined(separator: " ")
                }
            }
            return tables
        }
    }

    /// At the end of the day (deadlines running), a day later (some fired), and two months on.
    /// Each table the same, or the first rows that differ.
    static func expectSame(_ before: [String: [String]], _ after: [String: [String]], _ label: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        for name in before.keys.sorted() {
            let old = before[name] ?? [], new = after[name] ?? []
            let missing = old.filter { !new.contains($0) }.prefix(2), added = new.filter { !old.contains($0) }.prefix(2)
            #expect(old.count == new.count && missing.isEmpty && added.isEmpty, "\(name) differs after rebuilding \(label): before \(missing), after \(added)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [[], [86_400], [86_400, 7 * 86_400, 60 * 86_400]] as [[TimeInterval]])
    func theExampleDayRebuildsToTheSameModelsAndTimersAndSendsNothing(jumps: [TimeInterval]) async throws {
        let (runtime, store) = try await ExampleDayOutboxTests.projectedDay(jumps: jumps)
        let before = try Self.tables(store)
        #expect(before["orders"]?.count == 9 && before["customers"]?.count == 7 && before["tickets"]?.count == 4)
        #expect(before["timers"]?.isEmpty == jumps.contains(60 * 86_400), "deadlines run until they fire")

        var phases: [RebuildProgress.Phase] = []
        var standings: [RebuildStanding] = []
        let summary = try store.rebuild(engine: runtime.engine, now: ExampleDayOutboxTests.start, chunk: 5) { progress in
            phases.append(progress.phase)
            if let standing = try? store.rebuildStanding() { standings.append(standing) }
        }
        // Left in the database for the daemon's /metrics while it ran, and gone afterwards.
        #expect(standings.first.map { $0.target > 0 && $0.position <= $0.target } == true)
        #expect(try store.rebuildStanding() == nil)
        Self.expectSame(before, try Self.tables(store), "the example day")
        #expect(summary.generation == 1)
        #expect(summary.orders == 9 && summary.customers == 7 && summary.tickets == 4)
        #expect(phases.first == .replaying && phases.contains(.writing))
        let leftovers = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'rebuild_%'")
        }
        #expect(leftovers.isEmpty)
        let indexes = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL ORDER BY name")
        }
        #expect(indexes == ["orders_by_customer", "orders_open_by_carrier", "orders_open_by_region"])

        // A second rebuild is the same again, one generation on.
        #expect(try store.rebuild(engine: runtime.engine, now: ExampleDayOutboxTests.start).generation == 2)
        #expect(try Self.tables(store)["orders"] == before["orders"])
    }

    /// An event quarantined because it failed stays out of the rebuilt models; and the pipeline,
    /// which had that event's result cached, works on the rebuilt model afterwards.
    @Test func thePipelineDropsWhatItCachedBeforeTheRebuild() async throws {
        let (runtime, store) = try await ExampleDayOutboxTests.projectedDay()
        func customer(_ id: String) throws -> JSONValue {
            let doc = try store.pool.read { db in try Data.fetchOne(db, sql: "SELECT doc FROM customers WHERE id = ?", arguments: [id]) }
            return try JSONValue.parse(Array(try #require(doc)))
        }
        #expect(try customer("c-1002")["phone"]?.stringValue == "+4917612345678")
        // As if c-1002's change of phone had failed: quarantined, never applied.
        try await store.pool.write { db in
            let position = try Int64.fetchOne(db, sql: "SELECT position FROM events WHERE id = 'evt-20261123-014'")
            try db.execute(sql: """
                INSERT INTO held_events (position, scope, kind, reason, held_at) VALUES (?, '', 'quarantined', 'test', 0)
                """, arguments: [position])
        }
        _ = try store.rebuild(engine: runtime.engine, now: ExampleDayOutboxTests.start)
        let registered = try customer("c-1002")["phone"]?.stringValue
        #expect(registered != "+4917612345678")

        let update = try EventValidator.validate(JSONValue.parse(Array(#"""
            {"specversion":"1.0","id":"after-rebuild","source":"urn:test","type":"customer.updated","subject":"c-1002","data":{"locale":"de-DE"}}
            """#.utf8))).get()
        _ = try store.append([update], now: ExampleDayOutboxTests.start)
        try ExampleDayOutboxTests.drain(store, runtime, ExampleDayOutboxTests.start)
        let updated = try customer("c-1002")
        #expect(updated["locale"]?.stringValue == "de-DE")
        #expect(updated["phone"]?.stringValue == registered, "the pipeline wrote a model it had cached before the rebuild")
    }
}

/// `tidings rebuild` beside a running daemon that is taking in events: the daemon carries on
/// on the new tables, and a second rebuild, once all is quiet, changes nothing.
@Suite("tidings rebuild beside the daemon")
struct RebuildCommandTests {
    static func events(_ part: Int) -> Data {
        var lines: [String] = []
        for n in (part * 500)..<((part + 1) * 500) {
            lines.append(#"{"specversion":"1.0","id":"r\#(n)","source":"urn:load","type":"customer.registered","subject":"lc-\#(n)","data":{"name":"Load \#(n)","email":"lc-\#(n)@example.com"}}"#)
            lines.append(#"{"specversion":"1.0","id":"o\#(n)","source":"urn:load","type":"order.placed","subject":"lo-\#(n)","data":{"customer_id":"lc-\#(n)","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":5}],"total":5,"currency":"GBP","shipping":{"region":"North West","carrier":"DPD"}}}"#)
            lines.append(#"{"specversion":"1.0","id":"s\#(n)","source":"urn:load","type":"order.shipped","subject":"lo-\#(n)","data":{"carrier":"DPD","tracking_number":"T\#(n)"}}"#)
        }
        return Data(lines.joined(separator: "\n").utf8)
    }

    @Test func aRebuildWhileEventsArriveLeavesWhatASecondRebuildWouldMake() async throws {
        let directory = try Paths.temporaryDirectory("rebuild-live")
        let env = Paths.environment(in: directory)
        for part in 0..<2 {
            let appended = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Self.events(part))
            #expect(appended.status == 0, "\(appended.stderr)")
        }
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        let feeding = Task {
            for part in 2..<6 {
                _ = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Self.events(part))
            }
        }
        let first = try await ChildProcess.tidings(["rebuild"], environment: env, logs: directory)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("rebuilt from"), "\(first.stdout)")
        try await feeding.value
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "60"], environment: env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")

        let store = try Store(path: env["DATABASE_PATH"]!)
        let afterFirst = try RebuildTests.tables(store)
        #expect(afterFirst["orders"]?.count == 3_000)
        let second = try await ChildProcess.tidings(["rebuild"], environment: env, logs: directory)
        #expect(second.status == 0, "\(second.stderr)")
        RebuildTests.expectSame(afterFirst, try RebuildTests.tables(store), "a quiet log after a live rebuild")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0, "\(daemon.stderr.suffix(2_000))")
    }
}
