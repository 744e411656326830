import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

@Suite("Store: deadline timers, the clock and disruptions")
struct DeadlineStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-deadlines-\(UUID().uuidString)")
    let t0 = Timestamp.parse("2026-11-23T09:00:00Z")!

    func store(_ name: String = "t", durability: Store.Durability = .normal) throws -> Store {
        try Store(path: directory.appendingPathComponent("\(name).sqlite").path, durability: durability)
    }

    func at(_ text: String) -> Date { Timestamp.parse(text)! }

    func event(_ type: String, _ subject: String, _ data: JSONValue, time: String = "2026-11-23T09:00:00Z", id: String? = nil) -> CloudEvent {
        CloudEvent(id: id ?? "\(type)/\(subject)", source: "urn:test", type: type, subject: subject, time: at(time), data: data)
    }

    func customer(_ id: String) -> CloudEvent {
        event("customer.registered", id, ["name": "Ann", "email": .string("\(id)@example.com")])
    }

    func placed(_ id: String, customer: String = "c-1", region: String = "North West", carrier: String = "DPD",
                shipBy: String = "2026-11-24T16:00:00Z") -> CloudEvent {
        event("order.placed", id, [
            "customer_id": .string(customer), "total": 10, "currency": "GBP", "ship_by": .string(shipBy),
            "deliver_by": "2026-11-26T18:00:00Z", "shipping": ["region": .string(region), "carrier": .string(carrier)],
            "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 10]],
        ])
    }

    var engine: WorkflowEngine {
        WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "dispatch_overdue", on: "order.dispatch_overdue", category: .orderStatus, channels: [.preferred, .fixed(.email)],
                     template: "t"),
            Workflow(id: "staff_dispatch", on: "order.dispatch_overdue", to: .staff, category: .alert, channels: [.fixed(.staff)], template: "s"),
            Workflow(id: "response_overdue", on: "ticket.response_overdue", to: .staff, category: .alert, channels: [.fixed(.staff)],
                     template: "r"),
            Workflow(id: "disruption", on: "shipping.disruption_announced", category: .orderStatus, channels: [.preferred, .fixed(.email)],
                     template: "d"),
            Workflow(id: "delayed", on: "order.delayed", category: .orderStatus, channels: [.fixed(.email)], template: "l"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
    }

    func drain(_ store: Store, now: Date) throws {
        while true {
            let batch = try store.processBatch(limit: 500, engine: engine, now: now, fanoutLimit: 1000)
            if batch.processed == 0 && !batch.fanoutPending { return }
        }
    }

    /// A forget stops the customer's deadlines (their orders' and tickets'), and no one else's.
    @Test func aForgetStopsTheCustomersTimersOnly() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), customer("c-2"), placed("o-1"), placed("o-2"), placed("o-3", customer: "c-2"),
                              event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint"]),
                              event("ticket.opened", "t-2", ["customer_id": "c-2", "kind": "complaint"])], now: t0)
        try drain(store, now: t0)
        #expect(try store.status(now: t0).timers == 12)  // two per order, three per ticket
        // The purge deletes by the types Core lists: every timer must have one of them.
        let types = try store.pool.read { db in try Set(String.fetchAll(db, sql: "SELECT DISTINCT type FROM timers")) }
        #expect(types.isSubset(of: Deadlines.types), "\(types)")
        _ = try store.forget(customerID: "c-1", eventID: "f-1", now: t0)
        let left = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT type || ' ' || subject FROM timers ORDER BY 1") }
        #expect(left == ["order.delivery_overdue o-3", "order.dispatch_overdue o-3", "ticket.resolution_due_soon t-2",
                         "ticket.resolution_overdue t-2", "ticket.response_overdue t-2"])
    }

    @Test func aTimerStartsWithItsEventFiresOnceAndStopsWhenKept() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1"), placed("o-2"),
                          event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint"])], now: t0)
        try drain(store, now: t0)
        #expect(try store.status(now: t0).timers == 7)  // two per order, three for the ticket
        #expect(try store.nextTimer()?.type == "ticket.response_overdue")
        // o-2 ships in time; the ticket gets its reply.
        _ = try store.append([event("order.shipped", "o-2", ["carrier": "DPD"]), event("ticket.replied", "t-1", ["by": "Sam"])], now: t0)
        try drain(store, now: t0)
        #expect(try store.status(now: t0).timers == 5)
        // Nothing is due before the ship-by time.
        #expect(try store.fireDueTimers(now: at("2026-11-24T15:59:59Z")).timers == 0)
        #expect(try store.fireDueTimers(now: at("2026-11-24T16:00:00Z")).appended == 1)
        #expect(try store.fireDueTimers(now: at("2026-11-24T16:00:00Z")).timers == 0)
        try drain(store, now: at("2026-11-24T16:00:00Z"))
        let overdue = try store.events(after: 6, limit: 10)
        #expect(overdue.map(\.event.id) == ["order.dispatch_overdue/o-1/2026-11-24T16:00:00Z"])
        #expect(try store.messages(subjectID: "o-1").map(\.workflow) == ["dispatch_overdue", "staff_dispatch"])
        #expect(try store.messages(subjectID: "o-2").isEmpty)
    }

    @Test func aClockThatFiresAgainAfterACrashAppendsNothingNew() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1")], now: t0)
        try drain(store, now: t0)
        #expect(try store.fireDueTimers(now: at("2026-11-24T16:00:00Z")).appended == 1)
        // The pipeline replays the order (a rebuild): the timer comes back with the same id.
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO timers (type, subject, due_at, scheduled_by) VALUES ('order.dispatch_overdue', 'o-1', ?, 2)",
                           arguments: [at("2026-11-24T16:00:00Z").timeIntervalSince1970])
        }
        #expect(try store.fireDueTimers(now: at("2026-11-24T17:00:00Z")) == TimerFiring(timers: 1, appended: 0))
        #expect(try store.head() == 3)  // the deadline event is in the log once
    }

    @Test func aReplayOfTheLogReproducesTheMessagesWithoutTheClock() throws {
        let live = try store("live")
        _ = try live.append([customer("c-1"), placed("o-1"), placed("o-2"),
                         event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint"])], now: t0)
        try drain(live, now: t0)
        for hour in ["2026-11-24T12:00:00Z", "2026-11-24T18:00:00Z"] {
            try live.fireDueTimers(now: at(hour))
            try drain(live, now: at(hour))
        }
        _ = try live.append([event("order.shipped", "o-2", ["carrier": "DPD"])], now: t0)
        try drain(live, now: t0)
        let replay = try store("replay")
        _ = try replay.append(live.events(after: 0, limit: 1000).map(\.event), now: t0)
        try drain(replay, now: t0)
        func summary(_ store: Store) throws -> [String] {
            try store.messages(limit: 1000).map { "\($0.key) \($0.workflow) \($0.channel ?? "-") \($0.subjectID ?? "-")" }
        }
        #expect(try summary(live).count == 5)  // response overdue, and for each order an apology and a staff alert
        #expect(try summary(replay) == summary(live))
        // Every timer the replay started and the log already fired is spent.
        #expect(try replay.status(now: t0).timers == live.status(now: t0).timers)
    }

    @Test func aDisruptionTellsEveryAffectedCustomerOnceInChunks() throws {
        let store = try store()
        // 25 customers with 100 orders each; those of c-0, c-5, … c-20 all go south.
        var events = (0..<25).map { customer("c-\($0)") }
        for n in 0..<2500 { events.append(placed("o-\(n)", customer: "c-\(n % 25)", region: n % 5 == 0 ? "South" : "north west")) }
        events.append(event("order.delivered", "o-1", [:]))
        events.append(event("order.delayed", "o-3", ["reason": "stock"], time: "2026-11-23T08:00:00Z"))
        _ = try store.append(events, now: t0)
        try drain(store, now: t0)
        _ = try store.append([
            CloudEvent(id: "snow", source: "urn:test", type: "shipping.disruption_announced", subject: nil, time: t0,
                       data: ["region": "North West", "carrier": "dpd", "reason": "snow"]),
            customer("c-25"),
        ], now: t0)
        let first = try store.processBatch(limit: 500, engine: engine, now: t0, fanoutLimit: 1000)
        // The event after the disruption is applied at once; the orders are told about 1,000 at a
        // time, a customer's orders never split between chunks.
        #expect(first.processed == 2)
        #expect(first.disruptionAlerts >= 1000 && first.disruptionAlerts < 1100 && first.disruptionAlerts % 100 <= 99)
        #expect(first.fanoutPending)
        #expect(try store.customer(id: "c-25") != nil)
        try drain(store, now: t0)
        let alerts = try store.messages(limit: 5000).filter { $0.workflow == "disruption" }
        // One message per customer in the North West (20 of them), naming their orders; o-3's
        // customer heard about its delay an hour ago, so o-3 is held back on its own.
        #expect(alerts.count == 21)
        #expect(Set(alerts.compactMap(\.subjectID)) == Set((0..<25).filter { $0 % 5 != 0 }.map { "customer:c-\($0)" } + ["o-3"]))
        #expect(alerts.filter { $0.state == .skipped }.map(\.subjectID) == ["o-3"])
        #expect(try store.order(id: "o-7")?.timeline.last?.type == "shipping.disruption_announced", "every order records the alert")
        // Announced again an hour later: nobody is told twice within the window.
        _ = try store.append([CloudEvent(id: "snow-update", source: "urn:test", type: "shipping.disruption_announced", subject: nil,
                                     time: t0.addingTimeInterval(3600), data: ["region": "North West", "reason": "more snow"])], now: t0)
        try drain(store, now: t0)
        let again = try store.messages(limit: 10_000).filter { $0.workflow == "disruption" }
        #expect(again.count == 21 + 1999)
        #expect(again.filter { $0.state != .skipped }.count == 20)
    }

    @Test func aDeadlineOvertakenByANewEstimateNeitherAlertsNorStopsTheNewTimer() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1")], now: t0)
        try drain(store, now: t0)
        // The delay reaches the log just before the old deadline fires, and the pipeline is behind.
        _ = try store.append([event("order.delayed", "o-1", ["reason": "snow", "new_estimate": "2026-11-28"])], now: t0)
        #expect(try store.fireDueTimers(now: at("2026-11-26T18:00:00Z")).appended == 2)  // ship-by and the old deliver-by
        try drain(store, now: at("2026-11-26T18:00:00Z"))
        #expect(try store.messages(subjectID: "o-1").filter { !["dispatch_overdue", "staff_dispatch", "delayed"].contains($0.workflow) }.isEmpty)
        let next = try #require(try store.nextTimer())
        #expect(next.type == "order.delivery_overdue")
        #expect(Timestamp.format(next.dueAt) == "2026-11-28T23:59:59Z")
    }

    @Test func disruptionAlertsComeOutTheSameWhateverTheChunkSize() throws {
        var events = [customer("c-1")]
        for n in 0..<6 { events.append(placed("o-\(n)", shipBy: "2026-11-30T16:00:00Z")) }
        events.append(CloudEvent(id: "snow", source: "urn:test", type: "shipping.disruption_announced", subject: nil, time: t0,
                                 data: ["carrier": "DPD", "reason": "snow"]))
        events.append(event("order.out_for_delivery", "o-5", [:]))
        events.append(event("order.delivered", "o-4", [:]))
        func run(_ name: String, batch: Int, chunk: Int) throws -> [String] {
            let store = try store(name)
            _ = try store.append(events, now: t0)
            while true {
                let done = try store.processBatch(limit: batch, engine: engine, now: t0, fanoutLimit: chunk)
                if done.processed == 0 && !done.fanoutPending { break }
            }
            // The same messages in the same states; the order they were written in may differ.
            return try store.messages(limit: 100).map { "\($0.key) \($0.state.rawValue)" }.sorted()
        }
        let small = try run("small", batch: 1, chunk: 1)
        #expect(small.count == 1, "one customer, one message about the orders on their way")
        #expect(try run("large", batch: 500, chunk: 1000) == small)
    }
}
