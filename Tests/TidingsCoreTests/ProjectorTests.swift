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
        #expect(projector.projectDisruption(event, to: order, customer: nil, now: Fixtures.t0) == nil)
    }
}
