import Foundation
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// A disruption that hits several of one customer's orders sends that customer one message
/// naming them all, rendered by the shipped templates; the dry run's replay of the log decides
/// the same, and a second announcement within the window tells nobody twice.
@Suite("One disruption message per customer")
struct DisruptionGroupTests {
    /// The shipped configuration on a fresh database of its own.
    func open(_ name: String) async throws -> (Runtime, Store) {
        let env = Paths.environment(in: try Paths.temporaryDirectory(name))
        let runtime = try await Runtime.load(configPath: try #require(env["TIDINGS_CONFIG"]), environment: env)
        return (runtime, try Store(path: runtime.config.databasePath, durability: .normal))
    }

    @Test func aCustomerWithSeveralOrdersHitHearsOnce() async throws {
        let (runtime, store) = try await open("disruption-group")
        let now = try #require(Timestamp.parse("2026-11-23T12:00:00Z"))
        func event(_ id: String, _ type: String, _ subject: String?, _ data: JSONValue, at time: String = "2026-11-23T10:00:00Z") -> CloudEvent {
            CloudEvent(id: id, source: "urn:test", type: type, subject: subject, time: Timestamp.parse(time), data: data)
        }
        func placed(_ id: String, _ customer: String, tracking: Bool = false) -> [CloudEvent] {
            var events = [event("p-\(id)", "order.placed", id, [
                "customer_id": .string(customer), "items": [["sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": 12]], "total": 12,
                "currency": "GBP", "shipping": ["region": "North West England", "carrier": "DPD"],
            ])]
            if tracking { events.append(event("s-\(id)", "order.shipped", id, ["carrier": "DPD", "tracking_url": .string("https://track.example/\(id)")])) }
            return events
        }
        var log = [
            event("c-a", "customer.registered", "c-a", ["name": "Ada", "email": "ada@example.com", "locale": "de"]),
            event("c-b", "customer.registered", "c-b", ["name": "Ben", "email": "ben@example.com"]),
        ]
        log += placed("o-a1", "c-a", tracking: true) + placed("o-a2", "c-a", tracking: true) + placed("o-a3", "c-a") + placed("o-b1", "c-b")
        log.append(event("snow", Deadlines.disruption, nil, ["region": "North West England", "reason": "snow"], at: "2026-11-23T11:00:00Z"))
        log.append(event("snow-2", Deadlines.disruption, nil, ["carrier": "DPD", "reason": "more snow"], at: "2026-11-23T11:30:00Z"))
        _ = try store.append(log, now: now)
        while try store.processBatch(limit: 3, engine: runtime.engine, now: now, fanoutLimit: 1).processed > 0 {}
        while try store.processBatch(limit: 3, engine: runtime.engine, now: now, fanoutLimit: 1).fanoutPending {}

        let alerts = try store.messages(limit: 100).filter { $0.workflow == "disruption_alert" }
        let told = alerts.filter { $0.state == .pending }
        #expect(Set(told.compactMap(\.subjectID)) == ["customer:c-a", "o-b1"], "\(alerts.map { "\($0.subjectID ?? "-") \($0.state)" })")
        #expect(alerts.filter { $0.state == .skipped }.count == 4, "the second announcement tells nobody again: one held back per order")
        let group = try #require(told.first { $0.subjectID == "customer:c-a" })
        let row = try await store.pool.read { db in try Data.fetchOne(db, sql: "SELECT context FROM message_contexts WHERE message_id = ?", arguments: [group.id]) }
        let context = try JSONValue.parse(try #require(row))
        #expect(context["order_ids"] == "o-a1, o-a2, o-a3")
        let rendered = try runtime.catalog.render(template: "disruption_alert", channel: .email, locale: "de", context: context)
        #expect(rendered.subject?.contains("Ihre Bestellungen o-a1, o-a2, o-a3 sind betroffen") == true, "\(rendered.subject ?? "")")
        #expect(rendered.text.contains("Sendung o-a1 verfolgen: https://track.example/o-a1")
                && rendered.text.contains("https://track.example/o-a2"), "\(rendered.text)")
        let sms = try runtime.catalog.render(template: "disruption_alert", channel: .sms, locale: "en", context: context)
        #expect(sms.text.contains("your orders o-a1, o-a2, o-a3"), "\(sms.text)")

        // The dry run's in-memory replay decides the same messages.
        let positions = try #require(try store.positions(recordedFrom: nil, until: nil))
        let (report, _) = try await DryRun.compare(store: store, live: runtime, candidate: runtime, positions: positions, now: now)
        #expect(report.rows.allSatisfy { $0.added + $0.removed + $0.changed == 0 }, "\(report.rows)")
    }

    /// `count` customers with an order each in the North West, and snow announced there.
    static func snowOnCustomers(_ count: Int) -> [CloudEvent] {
        let time = Timestamp.parse("2026-11-23T10:00:00Z")
        var log: [CloudEvent] = []
        for n in 1...count {
            log.append(CloudEvent(id: "c-\(n)", source: "urn:test", type: "customer.registered", subject: "c-\(n)", time: time,
                                  data: ["name": "C", "email": .string("c\(n)@example.com")]))
            log.append(placed("o-\(n)", customer: "c-\(n)"))
        }
        log.append(CloudEvent(id: "snow", source: "urn:test", type: Deadlines.disruption, subject: nil, time: time,
                              data: ["region": "North West England", "reason": "snow"]))
        return log
    }

    static func placed(_ order: String, customer: String) -> CloudEvent {
        CloudEvent(id: "p-\(order)", source: "urn:test", type: "order.placed", subject: order, time: Timestamp.parse("2026-11-23T10:00:00Z"), data: [
            "customer_id": .string(customer), "items": [["sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": 12]], "total": 12,
            "currency": "GBP", "shipping": ["region": "North West England", "carrier": "DPD"],
        ])
    }

    /// While requests wait for the writer, a fan-out stops between customers and the next
    /// batch goes on from there: every order is told once, as without the wait.
    @Test func aFanOutGivesUpTheWriterBetweenCustomers() async throws {
        let (runtime, store) = try await open("disruption-yield")
        let now = try #require(Timestamp.parse("2026-11-23T12:00:00Z"))
        let log = Self.snowOnCustomers(3)
        _ = try store.append(log, now: now)
        let applied = try await store.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 0)
        #expect(applied.processed == log.count)

        let first = try await store.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 1000,
                                                 yielding: Yielding(stride: 1, waiting: { true }))
        #expect(first.yielded)
        #expect(first.disruptionAlerts == 1)
        #expect(first.fanoutPending)
        let rest = try await store.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 1000)
        #expect(!rest.yielded)
        #expect(rest.disruptionAlerts == 2)
        #expect(!rest.fanoutPending)
        let alerts = try store.messages(limit: 100).filter { $0.workflow == "disruption_alert" }
        #expect(alerts.compactMap(\.subjectID).sorted() == ["o-1", "o-2", "o-3"], "\(alerts.map { "\($0.subjectID ?? "-") \($0.state)" })")
    }

    /// While the dispatcher waits for the writer, a fan-out commits once it has told its
    /// minimum of orders, so the alerts it placed can be claimed and sent during the rest; a
    /// customer's orders are never split across the stop (c-2 has three, across the minimum).
    @Test func aFanOutGivesTheWriterToTheDispatcherAfterItsMinimum() async throws {
        let (runtime, store) = try await open("disruption-sending")
        let now = try #require(Timestamp.parse("2026-11-23T12:00:00Z"))
        var log = Self.snowOnCustomers(5)
        log.insert(contentsOf: [Self.placed("o-2b", customer: "c-2"), Self.placed("o-2c", customer: "c-2")], at: log.count - 1)
        _ = try store.append(log, now: now)
        _ = try await store.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 0)

        let sending = Yielding(stride: 1, waiting: { false }, sending: { true }, sendingAfter: 2)
        var told: [Int] = []
        while true {
            let batch = try await store.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 1000, yielding: sending)
            told.append(batch.disruptionAlerts)
            guard batch.fanoutPending else { break }
            #expect(batch.yielded)
        }
        // o-1, then c-2's three together (past the minimum), and the stop; o-3 and o-4; o-5.
        #expect(told == [4, 2, 1])
        let alerts = try store.messages(limit: 100).filter { $0.workflow == "disruption_alert" }
        #expect(alerts.compactMap(\.subjectID).sorted() == ["customer:c-2", "o-1", "o-3", "o-4", "o-5"])
    }
}
