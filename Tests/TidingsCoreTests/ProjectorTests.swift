import Foundation
import Testing
@testable import TidingsCore

/// The models a projection reads, kept in dictionaries: no database, no clock.
struct DictionaryModels: ModelLookup {
    var customers: [String: Customer] = [:]
    var orders: [String: Order] = [:]
    var tickets: [String: Ticket] = [:]

    func customer(_ id: String) -> Customer? { customers[id] }
    func order(_ id: String) -> Order? { orders[id] }
    func ticket(_ id: String) -> Ticket? { tickets[id] }

    /// Writes what a projection changed, as the store would.
    mutating func apply(_ projection: Projection) {
        if let customer = projection.customer { customers[customer.id] = customer }
        if let order = projection.order { orders[order.id] = order }
        if let ticket = projection.ticket { tickets[ticket.id] = ticket }
    }
}

@Suite("Projector")
struct ProjectorTests {
    let projector = Projector(engine: WorkflowEngine(workflows: WorkflowSet(workflows: [
        Workflow(id: "order_confirmation", on: "order.placed", category: .transactional, channels: [.fixed(.email)], template: "confirm"),
        Workflow(id: "order_shipped", on: "order.shipped", category: .orderStatus, channels: [.fixed(.email)], template: "shipped"),
    ]), shop: Fixtures.shop))

    func project(_ stored: StoredEvent, _ models: inout DictionaryModels) throws -> Projection {
        let projection = try projector.project(stored, models: &models, now: Fixtures.t0)
        models.apply(projection)
        return projection
    }

    @Test func anOrderBeforeItsCustomerIsParkedNotDropped() throws {
        var models = DictionaryModels()
        let placed = try project(Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1), &models)
        #expect(placed.outcome == .applied)
        #expect(placed.created == "order:o-1")
        let intent = try #require(placed.intents.first { $0.workflow == "order_confirmation" })
        #expect(intent.awaitingCustomer)
        #expect(placed.customerKnown == nil)

        let customer = Fixtures.customer()
        let registered = try project(Fixtures.stored("customer.registered", subject: "c-1", data: [
            "name": "Ann Example", "email": "ann@example.com",
        ], position: 2), &models)
        #expect(registered.customerKnown?.id == customer.id)
        #expect(registered.intents.isEmpty)
    }

    @Test func anEventForAnUnknownOrderWaitsForIt() throws {
        var models = DictionaryModels()
        let shipped = try project(Fixtures.stored("order.shipped", subject: "o-9", data: [:], position: 1), &models)
        #expect(shipped.outcome == .waiting(for: "order:o-9", reason: "order o-9 is not known yet: waiting for its order.placed"))
        #expect(shipped.order == nil && shipped.intents.isEmpty && shipped.timers.isEmpty)

        let replied = try project(Fixtures.stored("ticket.replied", subject: "t-9", data: ["by": "Sam"], position: 2), &models)
        #expect(replied.outcome == .waiting(for: "ticket:t-9", reason: "ticket t-9 is not known yet: waiting for its ticket.opened"))
    }

    @Test func aKnownOrderMovesOnAndNotifiesItsCustomer() throws {
        var models = DictionaryModels(customers: ["c-1": Fixtures.customer()])
        _ = try project(Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1), &models)
        let shipped = try project(Fixtures.stored("order.shipped", subject: "o-1", data: ["carrier": "ParcelCo"], position: 2), &models)
        #expect(shipped.outcome == .applied)
        #expect(shipped.created == nil)
        #expect(shipped.order?.status == .shipped)
        let intent = try #require(shipped.intents.first)
        #expect(intent.workflow == "order_shipped" && !intent.awaitingCustomer && intent.recipient == "ann@example.com")
    }

    @Test func placingAnOrderTwiceCreatesItOnce() throws {
        var models = DictionaryModels()
        let first = try project(Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1), &models)
        let again = try project(Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 2), &models)
        #expect(first.created == "order:o-1")
        #expect(again.created == nil)
    }

    @Test func aDisruptionIsLeftToTheChunkedAlert() throws {
        var models = DictionaryModels()
        let disruption = try project(Fixtures.stored(Deadlines.disruption, subject: "carrier:ParcelCo", data: [:], position: 1), &models)
        #expect(disruption.outcome == .disruption)
    }

    @Test func aDisruptionSkipsOrdersNoLongerOnTheirWay() throws {
        var models = DictionaryModels()
        _ = try project(Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1), &models)
        _ = try project(Fixtures.stored("order.delivered", subject: "o-1", data: [:], position: 2), &models)
        let order = try #require(models.orders["o-1"])
        let event = Fixtures.stored(Deadlines.disruption, subject: "carrier:ParcelCo", data: [:], position: 3)
        #expect(projector.projectDisruption(event, to: [order], customer: nil, now: Fixtures.t0).isEmpty)
    }

    @Test func aCustomerHitInSeveralOrdersGetsOneMessageNamingThemAll() throws {
        let alerting = Projector(engine: WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "disruption_alert", on: Deadlines.disruption, category: .orderStatus, channels: [.fixed(.email)], template: "alert"),
        ]), shop: Fixtures.shop))
        var models = DictionaryModels()
        models.customers["c-1"] = Fixtures.customer()
        for (position, id) in [(1, "o-1"), (2, "o-2"), (3, "o-3")] {
            _ = try project(Fixtures.stored("order.placed", subject: id, data: Fixtures.placedData, position: Int64(position)), &models)
        }
        _ = try project(Fixtures.stored("order.delivered", subject: "o-3", data: [:], position: 4), &models)
        let event = Fixtures.stored(Deadlines.disruption, subject: "carrier:ParcelCo", data: ["carrier": "ParcelCo"], position: 5)
        let orders = try ["o-1", "o-2", "o-3"].map { try #require(models.orders[$0]) }
        let projections = alerting.projectDisruption(event, to: orders, customer: models.customers["c-1"], now: Fixtures.t0)
        #expect(projections.compactMap(\.order?.id) == ["o-1", "o-2"], "each order on its way records the alert; o-3 was delivered")
        #expect(projections.map(\.intents.count) == [1, 0])
        let intent = try #require(projections.first?.intents.first)
        #expect(intent.subjectID == "customer:c-1" && intent.channel == .email)
        #expect(intent.context["order_ids"] == "o-1, o-2" && intent.context["several_orders"] == true)
        #expect(intent.context["orders"]?.arrayValue?.count == 2 && intent.context["order"]?["id"] == "o-1")

        // One order on its way: the message is about it, keyed as it always was.
        let single = alerting.projectDisruption(event, to: [orders[0]], customer: models.customers["c-1"], now: Fixtures.t0)
        let alone = try #require(single.first?.intents.first)
        #expect(alone.subjectID == "o-1" && alone.context["several_orders"] == false && alone.context["order_ids"] == "o-1")
        #expect(alone.context["orders"] == nil, "one order is in the context once")
        #expect(alone.key == IdempotencyKey.make(workflow: "disruption_alert", source: event.event.source, eventID: "\(event.event.id)\u{0}o-1"))
        #expect(alone.key != intent.key)
    }
}
