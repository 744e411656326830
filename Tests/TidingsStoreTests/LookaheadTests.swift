import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// The next batch is read ahead on a reader while the writer applies the one before; what it
/// read is used only where nothing has changed since.
@Suite("Store: the next batch read ahead")
struct LookaheadTests {
    let fixture = HandoffStoreTests()
    var now: Date { fixture.now }
    func event(_ type: String, _ subject: String, _ data: JSONValue) -> CloudEvent { fixture.event(type, subject, data) }

    /// A customer and their order applied; the order's shipping and delivery logged after.
    func store() throws -> Store {
        let store = try Store(path: fixture.directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        _ = try store.append([
            event("customer.registered", "c-1", ["email": "ann@example.com"]),
            event("order.placed", "o-1", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]),
        ], now: now)
        _ = try store.processBatch(limit: 10, engine: fixture.engine, now: now)
        _ = try store.append([event("order.shipped", "o-1", ["carrier": "DHL", "tracking": "1"]), event("order.delivered", "o-1", [:])], now: now)
        return store
    }

    /// Reads the delivery's batch ahead, past the shipping's, as the pipeline does while it
    /// applies the shipping. A fresh cache, so that the order is read from its row.
    func readAhead(_ store: Store) throws -> Lookahead {
        let sequence = store.models.sequence
        return try store.pool.read { db in try Lookahead.read(db, after: 2, skipping: 1, limit: 1, sequence: sequence, cache: ModelCache()) }
    }

    @Test func readsTheEventsAndTheModelsTheyName() throws {
        let store = try store()
        let ahead = try readAhead(store)
        #expect(ahead.events.keys.sorted() == [4])
        #expect(ahead.models.orders["o-1"]??.status == .placed)
        // The order's customer, named by the order's row.
        #expect(ahead.models.customers["c-1"]??.id == "c-1")
        let generation = try store.pool.read { db in try Store.checkpoint(db, Store.readModelsGeneration) }
        let (_, stale) = try #require(ahead.models(generation: generation, cache: store.models))
        #expect(stale.orders.isEmpty)
    }

    @Test func aModelWrittenSinceItWasReadIsReadAgain() throws {
        let store = try store()
        let ahead = try readAhead(store)
        _ = try store.processBatch(limit: 1, engine: fixture.engine, now: now)  // the shipping
        let generation = try store.pool.read { db in try Store.checkpoint(db, Store.readModelsGeneration) }
        let (models, stale) = try #require(ahead.models(generation: generation, cache: store.models))
        #expect(stale.orders == ["o-1"])
        let (checked, unchecked) = try store.pool.read { db in
            var checked = ReadModelCache(db: db, committed: ModelCache.Tables(), ahead: models, stale: stale)
            var unchecked = ReadModelCache(db: db, committed: ModelCache.Tables(), ahead: models)
            return (try checked.orders.get("o-1")?.status, try unchecked.orders.get("o-1")?.status)
        }
        #expect(checked == .shipped)
        // Without the check the order would be the one read ahead, from before the shipping.
        #expect(unchecked == .placed)
        // Another generation of the tables (a rebuild, a forget): nothing read ahead is used.
        #expect(ahead.models(generation: generation + 1, cache: store.models) == nil)
    }

    @Test func anEventWhoseKeyWentIsDecodedAgain() throws {
        let store = try store()
        let ahead = try store.pool.read { db in try Lookahead.read(db, after: 0, skipping: 0, limit: 1, sequence: 0, cache: ModelCache()) }
        #expect(ahead.events[1]?.event.event.data["email"]?.stringValue == "ann@example.com")
        try store.pool.write { db in try db.execute(sql: "DELETE FROM customer_keys") }
        let row = try #require(try store.pool.read { db in try Store.loggedEvents(db, after: 0, limit: 1) }.first)
        let event = try ahead.event(row)
        #expect(event.event.data["email"]?.stringValue != "ann@example.com")
        let again = try row.decoded()
        #expect(event == again)
    }

    @Test func commitsTooFarBackAreNotKnown() {
        let cache = ModelCache()
        for n in 0..<(ModelCache.recentCommits + 3) {
            var written = ModelCache.Written()
            written.orders = ["o-\(n)"]
            cache.commit(ModelCache.Snapshot(tables: ModelCache.Tables(), generation: 0, written: written))
        }
        let latest = cache.sequence
        #expect(cache.written(since: latest)?.orders == [])
        #expect(cache.written(since: latest - 2)?.orders == ["o-\(ModelCache.recentCommits + 1)", "o-\(ModelCache.recentCommits + 2)"])
        #expect(cache.written(since: latest - UInt64(ModelCache.recentCommits))?.orders.count == ModelCache.recentCommits)
        #expect(cache.written(since: latest - UInt64(ModelCache.recentCommits) - 1) == nil)
    }

    /// The pipeline's own path, batch after batch with a backlog: the same messages as one
    /// batch for everything.
    @Test func aBacklogAppliedInSmallBatchesMakesTheSameMessages() async throws {
        var events: [CloudEvent] = []
        for n in 0..<40 {
            events.append(event("customer.registered", "c-\(n)", ["email": .string("c\(n)@example.com")]))
            events.append(event("order.placed", "o-\(n)", ["customer_id": .string("c-\(n)"), "total": 1, "currency": "EUR",
                                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]))
        }
        for n in 0..<40 {
            events.append(event("order.shipped", "o-\(n)", ["carrier": "DHL", "tracking": .string("\(n)")]))
            events.append(event("ticket.opened", "t-\(n)", ["customer_id": .string("c-\(n)"), "order_id": .string("o-\(n)"), "kind": "complaint", "subject": "late"]))
        }
        func outbox(limit: Int, name: String) async throws -> [String] {
            let store = try Store(path: fixture.directory.appendingPathComponent("\(name).sqlite").path, durability: .normal)
            _ = try store.append(events, now: now)
            let now = self.now
            while try await store.processBatch(limit: limit, engine: fixture.engine, now: { now }, fanoutLimit: 0).processed > 0 {}
            return try store.messages(limit: 1_000).map { "\($0.key) \($0.state.rawValue) \($0.recipient ?? "-")" }.sorted()
        }
        let whole = try await outbox(limit: 1_000, name: "whole")
        #expect(whole.count == 80)
        let small = try await outbox(limit: 3, name: "small")
        #expect(small == whole)
    }
}
