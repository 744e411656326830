import Foundation
import Testing
import TidingsCore
@testable import TidingsStore

@Suite("Store: log, pipeline and outbox")
struct StoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-store-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func store() throws -> Store { try Store(path: directory.appendingPathComponent("t.sqlite").path) }

    func event(_ type: String, _ subject: String, _ data: JSONValue, id: String? = nil) -> CloudEvent {
        CloudEvent(id: id ?? "\(type)/\(subject)", source: "urn:test", type: type, subject: subject, time: now, data: data)
    }

    var day: [CloudEvent] {
        [
            event("customer.registered", "c-1", ["name": "Ann", "email": "ann@example.com", "phone": "+447700900123",
                                                 "preferences": ["channels": ["sms", "email"], "consent": ["sms": true]]]),
            event("order.placed", "o-1", ["customer_id": "c-1", "total": 10, "currency": "EUR",
                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 10]]]),
            event("order.shipped", "o-1", ["tracking_url": "https://t.example/1"]),
        ]
    }

    var engine: WorkflowEngine {
        WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "confirm", on: "order.placed", category: .orderStatus, channels: [.fixed(.email)], template: "confirm"),
            Workflow(id: "shipped", on: "order.shipped", category: .orderStatus, channels: [.preferred], template: "shipped"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
    }

    @Test func opensDurably() throws {
        #expect(try store().synchronousMode() == 2)  // FULL
    }

    @Test func appendingTheSameEventTwiceStoresItOnce() throws {
        let store = try store()
        let first = try store.append(day, now: now)
        #expect(first.positions == [1, 2, 3])
        let second = try store.append(day + [event("order.delivered", "o-1", [:])], now: now)
        #expect(second.positions == [4])
        #expect(second.alreadyStored == 3)
        #expect(try store.head() == 4)
    }

    @Test func thePipelineAppliesEachEventExactlyOnce() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        let batch = try store.processBatch(limit: 2, engine: engine, now: now)
        #expect(batch.processed == 2)
        #expect(batch.checkpoint == 2)
        #expect(batch.readyByChannel == [.email: 1])
        let rest = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(rest.processed == 1)
        #expect(rest.readyByChannel == [.sms: 1])
        #expect(try store.processBatch(limit: 100, engine: engine, now: now).processed == 0)
        #expect(try store.order(id: "o-1")?.status == .shipped)
        #expect(try store.messages().map(\.workflow) == ["confirm", "shipped"])
    }

    @Test func replayingFromZeroDoesNotDuplicateMessages() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM orders; DELETE FROM customers; UPDATE checkpoints SET position = 0")
        }
        let again = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(again.processed == 3)
        #expect(again.readyByChannel.isEmpty)
        #expect(try store.messages().count == 2)
    }

    @Test func claimsLeaseAndRecordOutcomes() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let claimed = try store.claim(channel: .email, limit: 10, now: now, lease: 60)
        #expect(claimed.count == 1)
        #expect(claimed.first?.attempts == 1)
        #expect(try store.claim(channel: .email, limit: 10, now: now, lease: 60).isEmpty)
        // The lease runs out (the sender died): the same message is claimed again.
        let reclaimed = try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(61), lease: 60)
        #expect(reclaimed.map(\.key) == claimed.map(\.key))
        #expect(reclaimed.first?.attempts == 2)
        let message = try #require(reclaimed.first)
        try store.record([DeliveryRecord(message: message, outcome: .transient(reason: "SMTP 451"), retryAt: now.addingTimeInterval(300))],
                         now: now.addingTimeInterval(62))
        #expect(try store.messages(state: .pending).first?.lastError == "SMTP 451")
        #expect(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(100), lease: 60).isEmpty)
        let retried = try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(301), lease: 60)
        try store.record([DeliveryRecord(message: try #require(retried.first), outcome: .permanent(reason: "SMTP 550 no such user"), retryAt: nil)],
                         now: now.addingTimeInterval(302))
        let failed = try #require(try store.messages(state: .failed).first)
        #expect(failed.lastError == "SMTP 550 no such user")
        #expect(failed.attempts == 3)
        #expect(try store.retry(messageID: failed.id, now: now) == 1)
        #expect(try store.messages(state: .failed).isEmpty)
    }

    @Test func oneTurnRecordsResultsAndClaimsTogether() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let first = try store.settleAndClaim([], room: [.email: 5, .sms: 0], now: now, lease: 60)
        #expect(first.map(\.workflow) == ["confirm"])
        let sent = DeliveryRecord(message: try #require(first.first), outcome: .sent(detail: "SMTP 250"), retryAt: nil)
        let second = try store.settleAndClaim([sent], room: [.email: 5, .sms: 5], now: now, lease: 60)
        #expect(second.map(\.workflow) == ["shipped"])
        #expect(try store.messages(state: .sent).map(\.workflow) == ["confirm"])
    }

    @Test func statusShowsHeadLagAndOutbox() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        var status = try store.status(now: now)
        #expect(status.head == 3)
        #expect(status.lag == 3)
        #expect(!status.isIdle)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        status = try store.status(now: now)
        #expect(status.lag == 0)
        #expect(status.count(.pending) == 2)
        #expect(status.outbox[.pending] == ["email": 1, "sms": 1])
    }
}
