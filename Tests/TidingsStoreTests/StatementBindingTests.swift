import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// The hot statements bind their values straight through SQLite (`execute(binding:)`): they must
/// store what GRDB would, fail as GRDB would, and leave their statement fit for the next run,
/// whoever makes it.
@Suite("Statements bound directly")
struct StatementBindingTests {
    func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, number REAL, count INTEGER, blob BLOB, maybe TEXT)")
        }
        return queue
    }

    static let insert = "INSERT INTO t (id, text, number, count, blob, maybe) VALUES (?, ?, ?, ?, ?, ?)"

    /// A duplicate refused by a unique index writes nothing, leaves no gap in an AUTOINCREMENT
    /// sequence (the log's positions) and no trace in the transaction; other constraints still throw.
    @Test func anInsertUnlessDuplicateLeavesNoGap() throws {
        let queue = try DatabaseQueue()
        let outcomes = try queue.write { db in
            try db.execute(sql: "CREATE TABLE log (position INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, id TEXT NOT NULL, UNIQUE (source, id))")
            let insert = try db.cachedStatement(sql: "INSERT INTO log (source, id) VALUES (?, ?)")
            var outcomes = [try insert.insert(unlessDuplicate: "s", "1"), try insert.insert(unlessDuplicate: "s", "1"),
                            try insert.insert(unlessDuplicate: "s", "2")]
            outcomes.append(db.lastInsertedRowID == 2)
            outcomes.append((try? insert.insert(unlessDuplicate: "s", String?.none)) == nil)
            outcomes.append(try insert.insert(unlessDuplicate: "t", "1"))
            return outcomes
        }
        #expect(outcomes == [true, false, true, true, true, true])
        let (positions, sequence) = try queue.read { db in
            (try Int64.fetchAll(db, sql: "SELECT position FROM log ORDER BY position"),
             try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'log'"))
        }
        #expect(positions == [1, 2, 3])
        #expect(sequence == 3)
    }

    @Test func storesEachValueAsGRDBWould() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            try insert.execute(binding: Int64(1), "ünïcode ✓", 2.5, 7, Data([0, 1, 2]), String?.none)
            try insert.execute(binding: Int64(2), "", -0.0, Int64.max, Data([9]), String?.some("here"))
            try db.execute(sql: Self.insert, arguments: [3, "ünïcode ✓", 2.5, 7, Data([0, 1, 2]), nil])
        }
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT text, number, count, blob, maybe, typeof(text), typeof(maybe) FROM t ORDER BY id")
            #expect(rows[0] == rows[2])
            #expect(rows[0]["text"] as String == "ünïcode ✓")
            #expect(rows[0]["blob"] as Data == Data([0, 1, 2]))
            #expect(rows[0][5] as String == "text")
            #expect(rows[0][6] as String == "null")
            #expect(rows[1]["text"] as String == "")
            #expect(rows[1][5] as String == "text")
            #expect(rows[1]["count"] as Int64 == .max)
            #expect(rows[1]["maybe"] as String == "here")
        }
    }

    @Test func readsTheFirstColumnAndEveryRow() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            for id in Int64(1)...3 { try insert.execute(binding: id, "row \(id)", 0.0, id * 10, Data(), String?.none) }
            let select = try db.cachedStatement(sql: "SELECT count, maybe FROM t WHERE id >= ? ORDER BY id")
            #expect(try select.fetchFirst(Int64.self, binding: Int64(2)) == 20)
            #expect(try select.fetchFirst(Int64.self, binding: Int64(9)) == nil)
            var seen: [Int64] = []
            try select.forEachRow(binding: Int64(1)) { row in
                seen.append(try row.value(0))
                #expect(row.optional(1) as String? == nil)
            }
            #expect(seen == [10, 20, 30])
            // A NULL where a value must be is an error, not a crash.
            try select.forEachRow(binding: Int64(3)) { row in
                #expect(throws: StoreError.self) { let _: String = try row.value(1) }
            }
        }
    }

    @Test func tooFewValuesAreRefusedAndNothingRuns() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            let error = #expect(throws: DatabaseError.self) { try insert.execute(binding: Int64(1), "short") }
            #expect(error?.resultCode == .SQLITE_MISUSE)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == 0)
            try insert.execute(binding: Int64(1), "whole", 1.0, 1, Data([1]), String?.none)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == 1)
        }
    }

    /// One value too many is the caller's mistake (as GRDB says it), not SQLite's range error,
    /// which the pipeline would take for the event's fault.
    @Test func tooManyValuesAreRefusedAsAMisuse() throws {
        let queue = try database()
        try queue.write { db in
            let select = try db.cachedStatement(sql: "SELECT count FROM t WHERE id = ?")
            let error = #expect(throws: DatabaseError.self) { _ = try select.fetchFirst(Int64.self, binding: Int64(1), Int64(2)) }
            #expect(error?.resultCode == .SQLITE_MISUSE)
            let insert = try db.cachedStatement(sql: Self.insert)
            let many: [any StatementBinding] = [Int64(1), "x", 1.0, 1, Data([1]), String?.none, "extra"]
            #expect(throws: DatabaseError.self) { try insert.execute(bindingAll: many) }
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == 0)
        }
    }

    /// Named parameters are bound by GRDB, which refuses a call that leaves one out.
    @Test func aNamedParameterLeftOutIsRefused() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            try insert.execute(binding: Int64(1), "row", 0.0, 5, Data([1]), String?.none)
            let select = try db.cachedStatement(sql: "SELECT text FROM t WHERE id = :id AND count >= :least")
            var seen: [String] = []
            try select.forEachRow(named: ["id": 1, "least": 5]) { seen.append(try $0.value(0)) }
            #expect(seen == ["row"])
            #expect(throws: DatabaseError.self) { try select.forEachRow(named: ["id": 1]) { _ in } }
        }
    }

    /// A write outside a transaction (one SQLite ended, say) would commit on its own: refused.
    @Test func aWriteOutsideATransactionIsRefused() throws {
        let queue = try database()
        try queue.writeWithoutTransaction { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            let error = #expect(throws: DatabaseError.self) { try insert.execute(binding: Int64(1), "alone", 1.0, 1, Data([1]), String?.none) }
            #expect(error?.resultCode == .SQLITE_MISUSE)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == 0)
            // Reading needs no transaction.
            #expect(try db.cachedStatement(sql: "SELECT COUNT(*) FROM t WHERE id > ?").fetchFirst(Int64.self, binding: Int64(0)) == 0)
        }
    }

    @Test func aFailedRunThrowsSQLitesErrorAndTheStatementRunsAgain() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            try insert.execute(binding: Int64(1), "first", 1.0, 1, Data([1]), String?.none)
            let error = #expect(throws: DatabaseError.self) {
                try insert.execute(binding: Int64(1), "again", 1.0, 1, Data([1]), String?.none)
            }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            #expect(error?.sql == Self.insert)
            try insert.execute(binding: Int64(2), "second", 1.0, 1, Data([1]), String?.none)
            #expect(try String.fetchAll(db, sql: "SELECT text FROM t ORDER BY id") == ["first", "second"])
        }
    }

    /// A cached statement is shared by SQL text: GRDB and the direct runs each bind their own.
    @Test func aStatementGRDBLeftPartwayRunsWithItsNewValuesAndGRDBAfterIt() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            for id in Int64(1)...3 { try insert.execute(binding: id, "row \(id)", 0.0, id, Data(), String?.none) }
            let select = try db.cachedStatement(sql: "SELECT text FROM t WHERE id >= ? ORDER BY id")
            let cursor = try String.fetchCursor(select, arguments: [1])
            #expect(try cursor.next() == "row 1")
            #expect(try select.fetchFirst(String.self, binding: Int64(3)) == "row 3")
            #expect(try String.fetchAll(select, arguments: [2]) == ["row 2", "row 3"])
            #expect(try select.fetchFirst(String.self, binding: Int64(2)) == "row 2")
        }
    }

    /// The claim reads its rows in place: a message whose context row is missing is claimed
    /// with none (rendered as an unreadable one is), rather than failing every claim after it.
    @Test func aClaimedMessageWithoutItsContextComesWithNone() throws {
        let fixtures = StoreTests()
        let store = try fixtures.store()
        _ = try store.append(fixtures.day, now: fixtures.now)
        _ = try store.processBatch(limit: 100, engine: fixtures.engine, now: fixtures.now)
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM message_contexts WHERE message_id IN (SELECT id FROM messages WHERE channel = 'email')")
        }
        let email = try #require(try store.claim(channel: .email, limit: 10, now: fixtures.now, lease: 60, owner: "d1").first)
        #expect(email.storedContext.isEmpty)
        #expect(email.parsedContext() == .null)
        let sms = try #require(try store.claim(channel: .sms, limit: 10, now: fixtures.now, lease: 60, owner: "d1").first)
        #expect(sms.parsedContext().value(atPath: "customer.id") != nil)
    }
}
