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

    /// Customers with one order each, but c-1 with five: a fan-out's batches differ in size,
    /// since a customer's orders are told together.
    func fanOut(_ name: String, durability: Store.Durability = .normal) throws -> (store: Store, deadlines: DeadlineStoreTests) {
        let deadlines = DeadlineStoreTests()
        let store = try deadlines.store(name, durability: durability)
        var events = (0..<4).map { deadlines.customer("c-\($0)") }
        for n in 0..<8 { events.append(deadlines.placed("o-\(n)", customer: n == 0 ? "c-0" : n < 6 ? "c-1" : "c-\(n - 4)")) }
        _ = try store.append(events, now: deadlines.t0)
        try deadlines.drain(store, now: deadlines.t0)
        _ = try store.append([CloudEvent(id: "snow", source: "urn:test", type: "shipping.disruption_announced", subject: nil,
                                         time: deadlines.t0, data: ["region": "North West", "reason": "snow"])], now: deadlines.t0)
        return (store, deadlines)
    }

    /// The shared cache starts afresh, as it does past its capacity in a fan-out of thousands.
    func emptySharedCache(_ store: Store) async throws {
        let generation = try await store.pool.read { db in try Store.checkpoint(db, Store.readModelsGeneration) }
        var filler = ModelCache.Tables()
        for n in 0...store.models.capacity {
            filler.orders["x-\(n)"] = .some(nil)
            filler.customers["x-\(n)"] = .some(nil)
        }
        store.models.commit(ModelCache.Snapshot(tables: filler, generation: generation, written: ModelCache.Written()))
    }

    @Test func readsTheFanOutsNextOrdersAndTheirCustomers() throws {
        let (store, deadlines) = try fanOut("next")
        // The announcement applied and its orders queued; nobody told yet.
        _ = try store.processBatch(limit: 10, engine: deadlines.engine, now: deadlines.t0, fanoutLimit: 0)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fanout") } == 8)
        let sequence = store.models.sequence
        let ahead = try store.pool.read { db in
            try Lookahead.read(db, after: nil, skipping: 0, limit: 0, fanout: FanoutAhead(told: 1, limit: 2), sequence: sequence, cache: ModelCache())
        }
        #expect(ahead.events.isEmpty)
        // Past the one the batch being applied tells, in the queue's order.
        #expect(ahead.models.orders.keys.sorted() == ["o-1", "o-2"])
        #expect(ahead.models.customers.keys.sorted() == ["c-1"])
        let usual = FanoutAhead(told: 200, limit: 1000)
        #expect(usual.skipping == 200 && usual.limit == 200)
        #expect(FanoutAhead(told: 0, limit: 1000).limit == FanoutAhead.least)
    }

    /// The batch told more orders than its read ahead skipped: an event about one of them in the
    /// next batch uses the order as that batch left it, not as it was read.
    @Test func anOrderToldSinceItWasReadAheadIsReadAgain() async throws {
        let (store, deadlines) = try fanOut("told")
        let (engine, t0) = (deadlines.engine, deadlines.t0)
        func batch(ahead: Lookahead? = nil) async throws -> PipelineBatch {
            try await store.processBatch(limit: 10, engine: engine, now: { t0 }, fanoutLimit: 1, yielding: .never, handoff: nil, ahead: ahead)
        }
        let first = try await batch()
        #expect(first.disruptionAlerts == 1)  // o-0
        // Read from its row (a fresh cache), as in a fan-out larger than the cache.
        let sequence = store.models.sequence
        let ahead = try await store.pool.read { db in
            try Lookahead.read(db, after: nil, skipping: 0, limit: 0, fanout: FanoutAhead(told: 1, limit: 1), sequence: sequence, cache: ModelCache())
        }
        #expect(ahead.models.orders["o-2"]??.timeline.last?.type == "order.placed")
        let second = try await batch()
        #expect(second.disruptionAlerts == 5)  // c-1's five, o-2 among them
        // o-2 is found only in what was read ahead.
        try await emptySharedCache(store)
        _ = try store.append([deadlines.event("order.delivered", "o-2", [:])], now: t0)
        _ = try await batch(ahead: ahead)
        let order = try #require(try store.order(id: "o-2"))
        #expect(order.status == .delivered)
        #expect(order.timeline.map(\.type) == ["order.placed", "shipping.disruption_announced", "order.delivered"])
    }

    /// The daemon's path: while a fan-out is queued, each batch leaves the next one the orders
    /// it will tell read ahead.
    @Test func aFanOutsBatchLeavesTheNextOrdersReadAhead() async throws {
        let (store, deadlines) = try fanOut("slot")
        let (engine, t0) = (deadlines.engine, deadlines.t0)
        func batch() async throws -> PipelineBatch {
            try await store.processBatch(limit: 10, engine: engine, now: { t0 }, fanoutLimit: 1, yielding: .never, handoff: nil)
        }
        _ = try await batch()  // the announcement, and o-0
        #expect(store.lookahead.take().fanoutTold == 1)
        store.lookahead.store(nil, from: nil, fanoutTold: 1)
        try await emptySharedCache(store)
        _ = try await batch()  // c-1's five orders, while o-2 (or, read after the commit, o-7) is read ahead
        let (ahead, _, told) = store.lookahead.take()
        #expect(told == 5)
        // None when the commit came between the read's snapshot and its look at the cache.
        #expect(ahead != nil)
        #expect((ahead?.models.orders.count ?? 0) <= 1)
    }

    /// The daemon's path, reading each next part of the fan-out ahead and committing it without
    /// waiting for the disk (a store that otherwise does): the same messages and orders as one
    /// batch for all of it, and the writer waits for the disk again after.
    @Test func aFanOutToldInSmallBatchesMakesTheSameMessagesAndOrders() async throws {
        func outcome(chunk: Int, name: String) async throws -> [String] {
            let (store, deadlines) = try fanOut(name, durability: .full)
            let (engine, t0) = (deadlines.engine, deadlines.t0)
            defer { #expect((try? store.synchronousMode()) == 2) }
            var batches = 0
            while true {
                let done = try await store.processBatch(limit: 10, engine: engine, now: { t0 }, fanoutLimit: chunk, yielding: .never, handoff: nil)
                if done.processed == 0 && !done.fanoutPending { break }
                batches += 1
            }
            let orders = try (0..<8).map { n in try store.order(id: "o-\(n)").map { "\($0.id) \($0.timeline.map(\.type))" } ?? "-" }
            return try store.messages(limit: 100).map { "\($0.key) \($0.state.rawValue) \($0.subjectID ?? "-")" }.sorted() + orders + ["\(batches > 2)"]
        }
        let small = try await outcome(chunk: 1, name: "small")
        #expect(small.filter { $0.contains("disruption") && $0.contains("customer:") }.count == 1)
        #expect(small.last == "true")
        let whole = try await outcome(chunk: 1_000, name: "whole")
        #expect(Array(small.dropLast()) == Array(whole.dropLast()))
    }
}
