import Foundation
import Logging
import Testing
import TidingsApp
import TidingsCore
import TidingsDelivery
import TidingsStore

/// A night and a day at the shop on an injected clock, through the shipped configuration: the
/// clock service fires deadlines, the pipeline turns them into messages, quiet hours hold an SMS
/// until morning, and the staff alert reaches a real team-chat webhook on loopback.
@Suite("Deadlines, quiet hours and staff alerts, on an injected clock")
struct DeadlineClockTests {
    func at(_ text: String) -> Date { Timestamp.parse(text)! }

    func events() -> [CloudEvent] {
        func event(_ id: String, _ type: String, _ subject: String, _ time: String, _ data: JSONValue) -> CloudEvent {
            CloudEvent(id: id, source: "urn:night", type: type, subject: subject, time: at(time), data: data)
        }
        let order: JSONValue = [
            "customer_id": "c-1", "total": 20, "currency": "EUR", "ship_by": "2026-11-24T16:00:00Z", "deliver_by": "2026-11-27T18:00:00Z",
            "items": [["sku": "A", "name": "Linen throw", "quantity": 1, "unit_price": 20]],
        ]
        return [
            event("e1", "customer.registered", "c-1", "2026-11-23T20:40:00Z", [
                "name": "Aoife Byrne", "email": "aoife@example.org", "phone": "+353871234567", "timezone": "Europe/Dublin", "locale": "en",
                "preferences": ["channels": ["sms", "email"], "consent": ["sms": true], "quiet_hours": ["start": "21:00", "end": "08:00"]],
            ]),
            event("e2", "order.placed", "o-1", "2026-11-23T20:50:00Z", order),
            event("e3", "order.placed", "o-2", "2026-11-23T20:51:00Z", order),
            event("e4", "order.shipped", "o-2", "2026-11-23T21:20:00Z", ["carrier": "An Post"]),
        ]
    }

    @Test func deadlinesFireOnTheClockAndQuietHoursHoldTheSMSUntilMorning() async throws {
        let directory = try Paths.temporaryDirectory("deadlines")
        let chat = try await LoopbackServer.http(logs: directory)
        let env = Paths.environment(in: directory).merging([
            "DATABASE_SYNCHRONOUS": "normal", "STAFF_TRANSPORT": "webhook", "STAFF_WEBHOOK_PRESET": "chat",
            "STAFF_WEBHOOK_URL": "http://127.0.0.1:\(chat.port)/hooks/care",
        ]) { $1 }
        let runtime = try await Runtime.load(configPath: env["TIDINGS_CONFIG"]!, environment: env)
        let store = try Store(path: runtime.config.databasePath, durability: .normal)
        let clock = ManualClock(at("2026-11-23T21:30:00Z"))
        let logger = Logger(label: "deadlines")
        let dispatcher = Dispatcher(queue: store, catalog: runtime.catalog, channels: try runtime.channelSetups(), logger: logger,
                                    clock: clock.now)
        let timers = ClockService(store: store, now: clock.now, pipeline: Doorbell(), dispatcher: Doorbell(), logger: logger)
        func turn() async throws {
            try await timers.tick()
            while try store.processBatch(limit: 500, engine: runtime.engine, now: clock.now()).processed > 0 {}
            await dispatcher.drain()
        }
        func sent(_ workflow: String) throws -> [MessageSummary] {
            try store.messages(limit: 100).filter { $0.workflow == workflow && $0.state == .sent }
        }

        _ = try store.append(events(), now: clock.now())
        try await turn()
        // 21:30 in Dublin: the receipts go out by email at once; the shipped SMS waits.
        #expect(try sent("order_confirmation").count == 2)
        #expect(try sent("order_shipped").isEmpty)
        #expect(try store.status(now: clock.now()).timers == 3)  // o-1's two deadlines, o-2's delivery

        clock.advance(10.5 * 3600 - 1)  // 07:59:59
        try await turn()
        #expect(try sent("order_shipped").isEmpty)
        clock.advance(1)  // 08:00, the end of her quiet hours
        try await turn()
        #expect(try sent("order_shipped").map(\.channel) == ["sms"])

        // 16:00: o-1 has not left. An apology by SMS (no longer night) and an alert to the team.
        clock.advance(8 * 3600)
        try await turn()
        #expect(try sent("order_dispatch_overdue").map(\.subjectID) == ["o-1"])
        #expect(try sent("order_dispatch_overdue").map(\.channel) == ["sms"])
        #expect(try sent("staff_dispatch_overdue").map(\.recipient) == ["#customer-care"])
        try await chat.stop()
        let posts = try chat.received()
        #expect(posts.count == 1)
        #expect(posts.first?["path"] == "/hooks/care")
        let text = try #require(posts.first?["body"]?.stringValue.flatMap { try? JSONValue.parse(Data($0.utf8)) }?["text"]?.stringValue)
        #expect(text.contains("o-1"))
        // The deadline fired once: the next tick appends nothing.
        #expect(try await timers.tick() == 0)
        #expect(try store.events(after: 0, limit: 100).filter { $0.event.source == Deadlines.source }.count == 1)
    }

    @Test func aSimulatedClockFollowsTheDatabaseAndOnlyMovesForward() async throws {
        let directory = try Paths.temporaryDirectory("simulated")
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let clock = DaemonClock(source: .database)
        #expect(try await clock.refresh(from: store) == false)
        try store.setSimulatedTime(at("2026-11-24T08:00:00Z"))
        #expect(try await clock.refresh(from: store))
        #expect(clock.now() == at("2026-11-24T08:00:00Z"))
        #expect(throws: StoreError.self) { try store.setSimulatedTime(at("2026-11-23T08:00:00Z")) }
        #expect(DaemonClock(source: .system).now().timeIntervalSinceNow.magnitude < 5)
    }
}
