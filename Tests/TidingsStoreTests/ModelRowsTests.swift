import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// A batch writes each changed model's row once; the row's query columns are written only when
/// their values change, since SQLite rewrites the index entries of every column an UPDATE sets.
@Suite("Store: read model rows")
struct ModelRowsTests {
    let fixture = HandoffStoreTests()

    /// A customer and their order, applied.
    func store() throws -> Store {
        let store = try Store(path: fixture.directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        _ = try store.append([
            fixture.event("customer.registered", "c-1", ["email": "ann@example.com"]),
            fixture.event("order.placed", "o-1", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                                  "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]),
        ], now: fixture.now)
        _ = try store.processBatch(limit: 10, engine: fixture.engine, now: fixture.now)
        return store
    }

    /// Counts, in `column_writes`, every UPDATE of `orders` that names one of its query columns.
    func countColumnWrites(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TEMP TABLE column_writes (id TEXT);
            CREATE TEMP TRIGGER column_written AFTER UPDATE OF \(ModelTable.orders.columns.joined(separator: ", ")) ON orders
            BEGIN INSERT INTO column_writes VALUES (new.id); END;
            """)
    }

    /// What the row holds: its document's order, its status column, and how many times an
    /// UPDATE named one of its query columns (a trigger counts them).
    func row(_ db: Database) throws -> (order: Order?, status: String?, columnWrites: Int) {
        (try ModelTable.orders.fetch(db, id: "o-1"), try String.fetchOne(db, sql: "SELECT status FROM orders WHERE id = 'o-1'"),
         try Int.fetchOne(db, sql: "SELECT count(*) FROM column_writes") ?? 0)
    }

    @Test func onlyChangedColumnsAreWrittenAndAMissingRowComesBack() throws {
        let store = try store()
        let noticed = Date(timeIntervalSinceReferenceDate: 800_000_000)
        try store.pool.write { db in
            try countColumnWrites(db)
            var table = EntityTable(db: db, table: .orders, committed: [:])
            var order = try #require(try table.get("o-1"))

            // The document alone changes: no query column is written.
            order.delayNoticeAt = noticed
            table.put("o-1", order, position: 10)
            try table.flush()
            var now = try row(db)
            #expect(now.order?.delayNoticeAt == noticed)
            #expect(now.status == "placed")
            #expect(now.columnWrites == 0)

            // The status changes: the column follows.
            order.status = .shipped
            table.put("o-1", order, position: 11)
            try table.flush()
            now = try row(db)
            #expect(now.order?.status == .shipped)
            #expect(now.status == "shipped")
            #expect(now.columnWrites == 1)

            // A column changed behind the batch's back: the document's update finds no row with
            // the model's columns, and the whole row is written.
            try db.execute(sql: "UPDATE orders SET customer_id = 'c-9' WHERE id = 'o-1'")
            order.delayNoticeAt = noticed.addingTimeInterval(60)
            table.put("o-1", order, position: 12)
            try table.flush()
            #expect(try String.fetchOne(db, sql: "SELECT customer_id FROM orders WHERE id = 'o-1'") == "c-1")

            // The row went behind the batch's back: it is written whole again.
            try db.execute(sql: "DELETE FROM orders WHERE id = 'o-1'")
            order.delayNoticeHeld = true
            table.put("o-1", order, position: 12)
            try table.flush()
            now = try row(db)
            #expect(now.order?.delayNoticeHeld == true)
            #expect(now.status == "shipped")

            // Deleted by the batch itself, then made again as it was: inserted with its columns.
            table.evict(["o-1"])
            try db.execute(sql: "DELETE FROM orders WHERE id = 'o-1'")
            table.put("o-1", order, position: 13)
            try table.flush()
            #expect(try row(db).status == "shipped")
        }
    }

    /// A model from the shared cache of committed models is a row as it stands too: its
    /// document alone is written when its columns keep their values.
    @Test func aCachedModelsDocumentIsWrittenAlone() throws {
        let store = try store()
        try store.pool.write { db in
            try countColumnWrites(db)
            var order = try #require(try ModelTable.orders.fetch(db, id: "o-1"))
            var table = EntityTable(db: db, table: .orders, committed: ["o-1": order])
            order = try #require(try table.get("o-1"))
            order.delayNoticeHeld = true
            table.put("o-1", order, position: 10)
            try table.flush()
            let now = try row(db)
            #expect(now.order?.delayNoticeHeld == true)
            #expect(now.columnWrites == 0)
        }
    }

    /// The pipeline's rows end the same whichever way they were written: an order's events
    /// that change its status and ones that do not, across batches.
    @Test func thePipelinesRowsHoldWhatTheirModelsSay() throws {
        let store = try store()
        _ = try store.append([
            fixture.event("order.shipped", "o-1", ["carrier": "DHL", "tracking": "1"]),
            fixture.event("order.delivered", "o-1", [:]),
        ], now: fixture.now)
        _ = try store.processBatch(limit: 1, engine: fixture.engine, now: fixture.now)
        _ = try store.processBatch(limit: 10, engine: fixture.engine, now: fixture.now)
        let (order, columns) = try store.pool.read { db in
            (try ModelTable.orders.fetch(db, id: "o-1"),
             try Row.fetchOne(db, sql: "SELECT customer_id, status, region, carrier FROM orders WHERE id = 'o-1'"))
        }
        let model = try #require(order)
        let row = try #require(columns)
        #expect(model.status == .delivered)
        #expect([row[0], row[1], row[2], row[3]] as [DatabaseValue] == ModelTable.orders.values(model))
    }
}
