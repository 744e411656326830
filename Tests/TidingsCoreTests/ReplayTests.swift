import Foundation
import Testing
@testable import TidingsCore

/// The log folded in memory with the pipeline's rules: no database, no clock.
@Suite("Replay")
struct ReplayTests {
    let engine = WorkflowEngine(workflows: WorkflowSet(workflows: [
        Workflow(id: "order_shipped", on: "order.shipped", category: .orderStatus, channels: [.fixed(.email)], template: "shipped"),
    ]), shop: Fixtures.shop)

    func placed(_ order: String, region: String, position: Int64) -> StoredEvent {
        var data = Fixtures.placedData
        data["shipping"] = ["region": .string(region), "carrier": "DPD"]
        return Fixtures.stored("order.placed", subject: order, data: data, position: position)
    }

    @Test func anEventBeforeItsOrderWaitsAndAppliesWhenTheOrderComes() throws {
        var replay = Replay(engine: engine)
        let shipped = Fixtures.stored("order.shipped", subject: "o-1", data: ["carrier": "DPD"], position: 1)
        #expect(try replay.apply(shipped, now: Fixtures.t0).isEmpty)
        #expect(replay.waiting["order:o-1"]?.count == 1 && replay.orders.isEmpty)
        _ = try replay.apply(Fixtures.stored("customer.registered", subject: "c-1", data: ["email": "ann@example.com"], position: 2),
                             now: Fixtures.t0)
        let intents = try replay.apply(placed("o-1", region: "North West", position: 3), now: Fixtures.t0)
        #expect(replay.waiting.isEmpty)
        #expect(replay.orders["o-1"]?.model.status == .shipped)
        #expect(replay.orders["o-1"]?.position == 1, "the model's position is the last event applied to it")
        #expect(intents.map(\.workflow) == ["order_shipped"], "the released event's messages come with the one that released it")
        #expect(replay.applied == 3)
    }

    @Test func aDisruptionReachesOpenOrdersInItsRegionWhateverTheCase() throws {
        var replay = Replay(engine: engine)
        _ = try replay.apply(placed("o-1", region: "North West", position: 1), now: Fixtures.t0)
        _ = try replay.apply(placed("o-2", region: "north west", position: 2), now: Fixtures.t0)
        _ = try replay.apply(placed("o-3", region: "London", position: 3), now: Fixtures.t0)
        _ = try replay.apply(placed("o-4", region: "North West", position: 4), now: Fixtures.t0)
        _ = try replay.apply(Fixtures.stored("order.cancelled", subject: "o-4", data: [:], position: 5), now: Fixtures.t0)
        let disruption = Fixtures.stored(Deadlines.disruption, subject: "snow", data: ["region": "NORTH WEST", "reason": "snow"], position: 6)
        replay.skipping = [HeldEvent.Key(position: 6, order: "o-2")]
        _ = try replay.apply(disruption, now: Fixtures.t0)
        let told = replay.orders.values.filter { $0.model.timeline.contains { $0.position == 6 } }.map(\.model.id).sorted()
        #expect(told == ["o-1"], "o-2 was quarantined for this disruption, o-3 is elsewhere, o-4 is cancelled")
        #expect(replay.orders["o-1"]?.position == 6)
    }

    @Test func scopeComparesLikeSQLiteNoCase() {
        #expect(DisruptionScope.same("North West", "NORTH west"))
        #expect(!DisruptionScope.same("Zoë", "ZOË"), "NOCASE folds ASCII letters only")
        #expect(!DisruptionScope.same(nil, "x"))
        #expect(DisruptionScope(["reason": "none"]) == nil)
    }

    @Test func timersFollowTheTimersTableRules() {
        var replay = Replay(engine: engine)
        let due = Fixtures.t0.addingTimeInterval(3_600)
        replay.run(.schedule(DeadlineTimer(type: "order.dispatch_overdue", subject: "o-1", dueAt: due)), position: 1)
        replay.run(.cancel(type: "order.dispatch_overdue", subject: "o-1", dueAt: due.addingTimeInterval(1)), position: 2)
        #expect(replay.timers.count == 1, "a cancel for another due time leaves the timer")
        replay.run(.cancel(type: "order.dispatch_overdue", subject: "o-1", dueAt: due), position: 3)
        #expect(replay.timers.isEmpty)
        #expect(replay.takeChanges().timers.count == 1)
        #expect(replay.takeChanges().isEmpty)
    }

    @Test func anIDWithAControlCharacterIsRefusedNotCutShort() {
        var replay = Replay(engine: engine)
        #expect(throws: ProjectionError.self) {
            try replay.apply(placed("o-1\u{0}x", region: "London", position: 1), now: Fixtures.t0)
        }
    }
}

extension ReplayTests {
    /// `customer.forgotten` takes the customer, their orders, tickets and timers out of the
    /// replay, as the store's purge takes them out of the tables; other customers stay.
    @Test func aForgottenCustomerLeavesNoModelsOrTimers() throws {
        var replay = Replay(engine: engine)
        _ = try replay.apply(Fixtures.stored("customer.registered", subject: "c-1", data: ["email": "ann@example.com"], position: 1), now: Fixtures.t0)
        _ = try replay.apply(placed("o-1", region: "North West", position: 2), now: Fixtures.t0)
        var other = Fixtures.placedData
        other["customer_id"] = "c-2"
        _ = try replay.apply(Fixtures.stored("order.placed", subject: "o-2", data: other, position: 3), now: Fixtures.t0)
        _ = try replay.apply(Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"], position: 4),
                             now: Fixtures.t0)
        #expect(replay.timers.keys.contains { $0.subject == "o-1" })
        _ = replay.takeChanges()

        _ = try replay.apply(Fixtures.stored(PersonalData.forgottenType, subject: "c-1", data: [:], position: 5), now: Fixtures.t0)
        #expect(replay.customers["c-1"] == nil && replay.orders["o-1"] == nil && replay.tickets["t-1"] == nil)
        #expect(!replay.timers.keys.contains { $0.subject == "o-1" || $0.subject == "t-1" })
        #expect(replay.orders["o-2"] != nil && replay.timers.keys.contains { $0.subject == "o-2" })
        let changes = replay.takeChanges()
        #expect(changes.customers == ["c-1"] && changes.orders == ["o-1"] && changes.tickets == ["t-1"])
    }
}
