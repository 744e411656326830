import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// Every event yields its messages or a recorded reason, and a message is suppressed or skipped
/// only because of one that was, or will be, delivered.
@Suite("Store: nothing is lost quietly")
struct NoSilentLossTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-loss-\(UUID().uuidString)")
    let t0 = Timestamp.parse("2026-11-23T09:00:00Z")!

    func store() throws -> Store {
        try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
    }

    func event(_ type: String, _ subject: String?, _ data: JSONValue, at time: Date? = nil, id: String? = nil) -> CloudEvent {
        CloudEvent(id: id ?? "\(type)/\(subject ?? "-")", source: "urn:test", type: type, subject: subject, time: time ?? t0, data: data)
    }

    func customer(_ id: String, name: String = "Ann Example", extra: [String: JSONValue] = [:]) -> CloudEvent {
        event("customer.registered", id, .object(JSONObject(["name": .string(name), "email": .string("\(id)@example.com")].merging(extra) { $1 })))
    }

    func placed(_ id: String, customer: String = "c-1", shipBy: String = "2026-11-24T16:00:00Z",
                deliverBy: String = "2026-11-26T18:00:00Z") -> CloudEvent {
        event("order.placed", id, [
            "customer_id": .string(customer), "total": 10, "currency": "GBP", "ship_by": .string(shipBy), "deliver_by": .string(deliverBy),
            "shipping": ["region": "North West", "carrier": "DPD"], "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 10]],
        ])
    }

    var engine: WorkflowEngine {
        func customer(_ id: String, on type: String, _ category: Workflow.Category = .orderStatus, channels: [Workflow.ChannelChoice] = [.preferred, .fixed(.email)]) -> Workflow {
            Workflow(id: id, on: type, category: category, channels: channels, template: id)
        }
        return WorkflowEngine(workflows: WorkflowSet(workflows: [
            customer("confirm", on: "order.placed", .transactional, channels: [.fixed(.email)]),
            customer("shipped", on: "order.shipped"),
            customer("delayed", on: "order.delayed"),
            customer("dispatch_overdue", on: "order.dispatch_overdue"),
            customer("delivery_overdue", on: "order.delivery_overdue"),
            customer("disruption", on: "shipping.disruption_announced"),
            customer("ack", on: "ticket.opened", .acknowledgement, channels: [.fixed(.email)]),
            Workflow(id: "staff_dispatch", on: "order.dispatch_overdue", to: .staff, category: .alert, channels: [.fixed(.staff)], template: "s"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""), customerWait: 3_600)
    }

    @discardableResult
    func drain(_ store: Store, now: Date? = nil) throws -> PipelineBatch {
        var total = PipelineBatch()
        while true {
            let batch = try store.processBatch(limit: 500, engine: engine, now: now ?? t0, fanoutLimit: 1000)
            total.parked += batch.parked
            total.releasedMessages += batch.releasedMessages
            total.parkedExpired += batch.parkedExpired
            total.quarantined += batch.quarantined
            total.released += batch.released
            total.waiting += batch.waiting
            if batch.processed == 0 && !batch.fanoutPending { return total }
        }
    }

    func messages(_ store: Store, _ workflow: String) throws -> [MessageSummary] {
        try store.messages(limit: 10_000).filter { $0.workflow == workflow }
    }

    // MARK: Customers who are not known yet

    @Test func anOrderBeforeItsCustomerWaitsForThemAndIsThenSent() throws {
        let store = try store()
        _ = try store.append([placed("o-1")], now: t0)
        #expect(try drain(store).parked == 1)
        let parked = try #require(try messages(store, "confirm").first)
        #expect(parked.state == .parked)
        #expect(parked.lastError?.contains("waiting for customer c-1") == true)
        _ = try store.append([customer("c-1", name: "Rahul Mehta")], now: t0)
        #expect(try drain(store).releasedMessages == 1)
        let sent = try #require(try messages(store, "confirm").first)
        #expect(sent.state == .pending)
        #expect(sent.recipient == "c-1@example.com")
        #expect(sent.lastError == nil)
        let context = try store.pool.read { db in try Data.fetchOne(db, sql: "SELECT context FROM message_contexts WHERE message_id = ?", arguments: [sent.id]) }
        #expect(try JSONValue.parse(try #require(context)).value(atPath: "customer.name") == "Rahul Mehta")
    }

    @Test func aCustomerWhoNeverComesEndsTheWaitWithAReason() throws {
        let store = try store()
        _ = try store.append([placed("o-1", customer: "c-9")], now: t0)
        try drain(store)
        #expect(try drain(store, now: t0.addingTimeInterval(3_599)).parkedExpired == 0)
        #expect(try store.nextWaitEnd() == t0.addingTimeInterval(3_600))
        #expect(try drain(store, now: t0.addingTimeInterval(3_601)).parkedExpired == 1)
        let skipped = try #require(try messages(store, "confirm").first)
        #expect(skipped.state == .skipped)
        #expect(skipped.lastError?.contains("customer c-9 was still not known") == true)
        #expect(try store.nextWaitEnd() == nil)
    }

    /// Several producers: customers and their orders arrive in any order, yet every order gets
    /// its confirmation (the report: 510 of 2,500 vanished).
    /// A disruption's chunks stop early while the dispatcher waits for the writer, nearly
    /// every one of them: the waits that ran out still end in those batches.
    @Test func aWaitEndsDuringAFanOutThatGivesTheWriterAway() async throws {
        let store = try store()
        var log = [placed("o-9", customer: "c-9")]
        for n in 1...3 { log += [customer("c-\(n)"), placed("o-\(n)", customer: "c-\(n)")] }
        log.append(event("shipping.disruption_announced", nil, ["region": "North West", "reason": "snow"]))
        _ = try store.append(log, now: t0)
        let parked = try await store.processBatch(limit: 500, engine: engine, now: { [t0] in t0 }, fanoutLimit: 0)
        #expect(parked.parked == 1)
        let later = t0.addingTimeInterval(3_601)
        let sending = Yielding(stride: 1, waiting: { false }, sending: { true }, sendingAfter: 1)
        let batch = try await store.processBatch(limit: 500, engine: engine, now: { later }, fanoutLimit: 1000, yielding: sending)
        #expect(batch.yielded && batch.fanoutPending)
        #expect(batch.parkedExpired == 1)
        #expect(try messages(store, "confirm").map(\.state) == [.skipped, .pending, .pending, .pending])
    }

    @Test func producersInAnyOrderLoseNoConfirmation() throws {
        let store = try store()
        var events: [CloudEvent] = []
        for n in 0..<600 {
            let pair = [customer("c-\(n)"), placed("o-\(n)", customer: "c-\(n)")]
            events += n % 3 == 0 ? pair.reversed() : pair
        }
        var random = SystemRandomNumberGenerator()
        for i in stride(from: events.count - 1, to: 0, by: -1) where Int.random(in: 0...3, using: &random) == 0 {
            events.swapAt(i, i - 1)
        }
        for slice in stride(from: 0, to: events.count, by: 37) {
            _ = try store.append(Array(events[slice..<min(slice + 37, events.count)]), now: t0)
            try drain(store)
        }
        let confirmations = try messages(store, "confirm")
        #expect(confirmations.count == 600)
        #expect(confirmations.allSatisfy { $0.state == .pending && $0.recipient == "\($0.customerID)@example.com" })
    }

    // MARK: Orders and tickets that are not known yet

    @Test func anEventAboutAnOrderNotPlacedYetWaitsAndApplies() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), event("order.shipped", "o-1", ["carrier": "DPD", "tracking_url": "https://t.example/1"])], now: t0)
        #expect(try drain(store).waiting == 1)
        #expect(try store.heldEvents(kind: .waiting).map(\.waitingFor) == ["order:o-1"])
        _ = try store.append([placed("o-1")], now: t0)
        #expect(try drain(store).released == 1)
        #expect(try store.heldEvents().isEmpty)
        #expect(try store.order(id: "o-1")?.status == .shipped)
        #expect(try store.messages().map(\.workflow) == ["confirm", "shipped"])
    }

    @Test func anOrderThatNeverComesQuarantinesItsEventsButStillAppliesThemLater() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), event("order.shipped", "o-1", ["carrier": "DPD"])], now: t0)
        try drain(store)
        let expired = try drain(store, now: t0.addingTimeInterval(3_601))
        #expect(expired.quarantined.map(\.key.position) == [2])
        #expect(try store.heldEvents(kind: .quarantined).first?.reason.contains("gave up waiting: order o-1 is not known yet") == true)
        _ = try store.append([placed("o-1")], now: t0)
        try drain(store, now: t0.addingTimeInterval(7_200))
        #expect(try store.heldEvents().isEmpty)
        #expect(try store.order(id: "o-1")?.status == .shipped)
    }

    // MARK: Suppressed or skipped only because of a message that was, or will be, delivered

    /// The daemon was down while both deadlines passed: the delivery apology is redundant with
    /// the dispatch apology still to go, and must not suppress it.
    @Test func bothDeadlinesPassedWhileDownStillApologiseOnce() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1")], now: t0)
        try drain(store)
        _ = try store.fireDueTimers(now: Timestamp.parse("2026-11-27T00:00:00Z")!)
        try drain(store, now: Timestamp.parse("2026-11-27T00:00:00Z")!)
        let dispatch = try #require(try messages(store, "dispatch_overdue").first)
        let delivery = try #require(try messages(store, "delivery_overdue").first)
        #expect(dispatch.state == .pending)
        #expect(delivery.state == .skipped)
        #expect(delivery.lastError == "already being told about a delay to this order: message \(dispatch.id) is pending")
    }

    /// o-5003 in the example day: the shop's own delay notice is still unsent when the
    /// disruption comes; the disruption alert is redundant and leaves the notice alone.
    @Test func aSkippedDisruptionAlertDoesNotSuppressTheDelayNotice() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1"), event("order.delayed", "o-1", ["reason": "stock"])], now: t0)
        try drain(store)
        _ = try store.append([event("shipping.disruption_announced", nil, ["region": "north west", "reason": "snow"], at: t0.addingTimeInterval(60))],
                             now: t0)
        try drain(store)
        #expect(try messages(store, "delayed").map(\.state) == [.pending])
        #expect(try messages(store, "disruption").map(\.state) == [.skipped])
    }

    /// A delay notice that died (or was suppressed) told the customer nothing: the next alert goes.
    @Test func aDelayNoticeThatDiedDoesNotCountAsTold() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1"), event("order.delayed", "o-1", ["reason": "stock"])], now: t0)
        try drain(store)
        let notices = try store.claim(channel: .email, limit: 10, now: t0, lease: 60, owner: "d1").filter { $0.workflow == "delayed" }
        let notice = try #require(notices.first)
        try store.record([DeliveryRecord(message: notice, outcome: .permanent(reason: "550 no such user"),
                                         next: OutboxStateMachine.settle(notice.progress, outcome: .permanent(reason: "550"), now: t0,
                                                                         policy: .email, jitter: 0))], now: t0)
        #expect(try messages(store, "delayed").map(\.state) == [.dead])
        _ = try store.append([event("shipping.disruption_announced", nil, ["region": "North West"], at: t0.addingTimeInterval(60))], now: t0)
        try drain(store)
        #expect(try messages(store, "disruption").map(\.state) == [.pending])
    }

    /// A mail server down through both deadlines: the first apology is retrying (on its way),
    /// so the second is redundant and leaves it alone; quiet hours holding the first do the same.
    @Test func anOutageOrQuietHoursAcrossBothDeadlinesKeepTheFirstApology() throws {
        for quiet in [false, true] {
            let store = try Store(path: directory.appendingPathComponent("q\(quiet).sqlite").path, durability: .normal)
            let sms: [String: JSONValue] = ["phone": "+447700900123", "preferences": [
                "channels": ["sms"], "consent": ["sms": true], "quiet_hours": ["start": "22:00", "end": "08:00"]]]
            _ = try store.append([customer("c-1", extra: quiet ? sms : [:]),
                                  placed("o-1", shipBy: "2026-11-24T23:00:00Z", deliverBy: "2026-11-25T01:00:00Z")], now: t0)
            try drain(store)
            let night = Timestamp.parse("2026-11-24T23:00:00Z")!
            _ = try store.fireDueTimers(now: night)
            try drain(store, now: night)
            let first = try #require(try messages(store, "dispatch_overdue").first)
            if quiet {
                #expect(first.channel == "sms")
            } else {
                let claimed = try #require(try store.claim(channel: .email, limit: 10, now: night, lease: 60, owner: "d1").first { $0.id == first.id })
                let outcome = DeliveryOutcome.transient(reason: "421 try later")
                try store.record([DeliveryRecord(message: claimed, outcome: outcome, next: OutboxStateMachine.settle(
                    claimed.progress, outcome: outcome, now: night, policy: .email, jitter: 0))], now: night)
            }
            let later = Timestamp.parse("2026-11-25T01:00:00Z")!
            _ = try store.fireDueTimers(now: later)
            try drain(store, now: later)
            #expect(try messages(store, "dispatch_overdue").map(\.state) == [quiet ? .pending : .retrying])
            #expect(try messages(store, "delivery_overdue").map(\.state) == [.skipped])
        }
    }

    // MARK: Poison events

    @Test func anUnreadableEventIsQuarantinedAndTheOthersGoOnThenARetryAppliesIt() throws {
        let store = try store()
        _ = try store.append([customer("c-1"), placed("o-1"), placed("o-2")], now: t0)
        let good = try store.pool.read { db in try Data.fetchOne(db, sql: "SELECT body FROM events WHERE position = 2") }
        try store.pool.write { db in try db.execute(sql: "UPDATE events SET body = CAST('null' AS BLOB) WHERE position = 2") }
        let batch = try store.processBatch(limit: 500, engine: engine, now: t0)
        #expect(batch.checkpoint == 3)
        #expect(batch.quarantined.map(\.key.position) == [2])
        #expect(try messages(store, "confirm").map(\.subjectID) == ["o-2"])
        let held = try #require(try store.heldEvents(kind: .quarantined).first)
        #expect(held.reason.contains("not a readable CloudEvent"))
        #expect(try store.status(now: t0).quarantined == 1)
        // An operator repairs it and asks for a retry: it is applied.
        try store.pool.write { db in try db.execute(sql: "UPDATE events SET body = ? WHERE position = 2", arguments: [good]) }
        #expect(try store.requestRetry(position: 2) == 1)
        #expect(try store.retriesRequested())
        #expect(try store.retryRequested(engine: engine, now: t0).map(\.failure) == [nil])
        #expect(try store.heldEvents().isEmpty)
        #expect(Set(try messages(store, "confirm").compactMap(\.subjectID)) == ["o-1", "o-2"])
    }

    /// Stored by an older version that let it through: an amount templates cannot hold in cents.
    @Test func anAmountBeyondCentsNeitherCrashesNorStopsThePipeline() throws {
        let store = try store()
        var order = placed("o-1")
        order.data["total"] = 1e17
        order.raw = CloudEvent(id: order.id, source: order.source, type: order.type, subject: order.subject, time: order.time, data: order.data).raw
        _ = try store.append([customer("c-1"), order, event("order.refunded", "o-1", ["amount": 1e17])], now: t0)
        let batch = try drain(store)
        #expect(batch.quarantined.isEmpty)
        #expect(try store.checkpoint() == 3)
        #expect(try messages(store, "confirm").count == 1)
    }

    @Test func aKeyTakenByAnotherMessageStopsTheEventInsteadOfDroppingIt() throws {
        let store = try store()
        let error = try store.pool.write { db -> (any Error)? in
            let writer = try OutboxWriter(db: db, now: t0, engine: engine)
            let stored = StoredEvent(position: 1, recordedAt: t0, event: placed("o-1"))
            let order = Reducers.order(nil, stored)
            let made = try #require(engine.intents(for: stored, customer: Customer(id: "c-1"), order: order, ticket: nil, now: t0).first)
            func intent(_ position: Int64) -> NotificationIntent {
                var intent = made
                intent.eventPosition = position
                return intent
            }
            #expect(try writer.place(intent(1), eventType: "order.placed", eventAt: t0) != nil)
            #expect(try writer.place(intent(1), eventType: "order.placed", eventAt: t0) == nil)  // a replay
            do {
                _ = try writer.place(intent(2), eventType: "order.placed", eventAt: t0)
                return nil
            } catch {
                return error
            }
        }
        #expect((error as? StoreError)?.code == .keyConflict)
    }
}
