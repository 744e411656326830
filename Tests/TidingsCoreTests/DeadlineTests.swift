import Foundation
import Testing
@testable import TidingsCore

@Suite("Business calendar and quiet hours")
struct CalendarTests {
    let london = BusinessCalendar(timeZone: TimeZone(identifier: "Europe/London")!, holidays: ["2026-12-25", "2026-12-28"])

    func at(_ text: String) -> Date { Timestamp.parse(text)! }

    @Test func workingHoursSkipTheNightAndTheWeekend() {
        // Friday 16:00: 1h30 left that day, the other 6h30 on Monday from 09:00.
        #expect(Timestamp.format(london.adding(workingHours: 8, to: at("2026-11-20T16:00:00Z"))) == "2026-11-23T15:30:00Z")
        // Asked on Saturday, the clock starts on Monday morning.
        #expect(Timestamp.format(london.adding(workingHours: 2, to: at("2026-11-21T12:00:00Z"))) == "2026-11-23T11:00:00Z")
        // Asked before opening: counted from 09:00.
        #expect(Timestamp.format(london.adding(workingHours: 1, to: at("2026-11-24T06:00:00Z"))) == "2026-11-24T10:00:00Z")
    }

    @Test func workingDaysSkipHolidaysAndEndAtClosingTime() {
        // Thursday 24 December: Friday 25 and Monday 28 are holidays, so day 1 is Tuesday 29.
        #expect(Timestamp.format(london.closeOfBusiness(workingDays: 1, after: at("2026-12-24T10:00:00Z"))) == "2026-12-29T17:30:00Z")
        #expect(Timestamp.format(london.opening(workingDays: 2, before: at("2026-12-29T17:30:00Z"))) == "2026-12-23T09:00:00Z")
    }

    @Test func timesAreLocalAcrossDaylightSaving() {
        // Summer time: 09:00 in London is 08:00 UTC.
        #expect(Timestamp.format(london.adding(workingHours: 1, to: at("2027-06-01T05:00:00Z"))) == "2027-06-01T09:00:00Z")
    }

    @Test func quietHoursHoldUntilTheirEndInTheCustomersZone() {
        let quiet = Customer.QuietHours(start: "21:00", end: "08:00")
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 21:20 UTC is 22:20 in Berlin: held until 08:00 Berlin, 07:00 UTC.
        #expect(quiet.release(at: at("2026-11-23T21:20:00Z"), in: berlin).map(Timestamp.format) == "2026-11-24T07:00:00Z")
        // 03:00 Berlin, after midnight: the same morning.
        #expect(quiet.release(at: at("2026-11-24T02:00:00Z"), in: berlin).map(Timestamp.format) == "2026-11-24T07:00:00Z")
        #expect(quiet.release(at: at("2026-11-24T12:00:00Z"), in: berlin) == nil)
        // A window within one day, and times that are not times.
        #expect(Customer.QuietHours(start: "13:00", end: "15:00").release(at: at("2026-11-24T13:30:00Z"), in: .gmt)
            .map(Timestamp.format) == "2026-11-24T15:00:00Z")
        #expect(Customer.QuietHours(start: "late", end: "08:00").release(at: at("2026-11-24T02:00:00Z"), in: berlin) == nil)
    }
}

@Suite("Deadline rules")
struct DeadlineRuleTests {
    let placedData: JSONValue = [
        "customer_id": "c-1", "total": 59.8, "currency": "EUR", "dispatch_by": "2026-11-24T16:00:00Z", "deliver_by": "2026-11-26T18:00:00Z",
        "items": [["sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": 59.8]], "shipping": ["region": "North West", "carrier": "DPD"],
    ]

    var placed: StoredEvent { Fixtures.stored("order.placed", subject: "o-1", data: placedData) }

    @Test func placingAnOrderStartsItsTwoDeadlinesWithFixedIds() throws {
        let order = try #require(Reducers.order(nil, placed))
        let actions = Deadlines.actions(for: placed, order: order, ticket: nil)
        #expect(actions == [
            .schedule(DeadlineTimer(type: "order.dispatch_overdue", subject: "o-1", dueAt: Timestamp.parse("2026-11-24T16:00:00Z")!)),
            .schedule(DeadlineTimer(type: "order.delivery_overdue", subject: "o-1", dueAt: Timestamp.parse("2026-11-26T18:00:00Z")!)),
        ])
        let timer = DeadlineTimer(type: "order.dispatch_overdue", subject: "o-1", dueAt: Timestamp.parse("2026-11-24T16:00:00Z")!)
        #expect(timer.event.id == "order.dispatch_overdue/o-1/2026-11-24T16:00:00Z")
        #expect(timer.event.source == Deadlines.source)
        #expect(timer.event.time == timer.dueAt)
        // Placed again (a producer's retry): nothing new.
        let again = Fixtures.stored("order.placed", subject: "o-1", data: placedData, position: 2)
        #expect(Deadlines.actions(for: again, order: Reducers.order(order, again), ticket: nil).isEmpty)
    }

    @Test func shippingAndDeliveringStopTheirDeadlines() throws {
        var order = try #require(Reducers.order(nil, placed))
        let shipped = Fixtures.stored("order.shipped", subject: "o-1", data: ["carrier": "DPD"], position: 2)
        order = try #require(Reducers.order(order, shipped))
        #expect(Deadlines.actions(for: shipped, order: order, ticket: nil) == [.cancel(type: "order.dispatch_overdue", subject: "o-1")])
        let delivered = Fixtures.stored("order.delivered", subject: "o-1", data: [:], position: 3)
        order = try #require(Reducers.order(order, delivered))
        #expect(Deadlines.actions(for: delivered, order: order, ticket: nil).count == 2)
        // A partial (goodwill) refund leaves an order on its way, and its deadlines running.
        var other = try #require(Reducers.order(nil, placed))
        let goodwill = Fixtures.stored("order.refunded", subject: "o-1", data: ["amount": 5], position: 4)
        other = try #require(Reducers.order(other, goodwill))
        #expect(other.status == .placed)
        #expect(Deadlines.actions(for: goodwill, order: other, ticket: nil).isEmpty)
    }

    @Test func ticketsRunThreeDeadlinesUntilRepliedAndResolved() throws {
        let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"])
        let ticket = try #require(Reducers.ticket(nil, opened, promises: .standard))
        let types = Deadlines.actions(for: opened, order: nil, ticket: ticket).compactMap { action -> String? in
            if case .schedule(let timer) = action { return timer.type }
            return nil
        }
        #expect(Set(types) == ["ticket.response_overdue", "ticket.resolution_due_soon", "ticket.resolution_overdue"])
        let replied = Fixtures.stored("ticket.replied", subject: "t-1", data: [:], position: 2)
        #expect(Deadlines.actions(for: replied, order: nil, ticket: ticket) == [.cancel(type: "ticket.response_overdue", subject: "t-1")])
        let resolved = Fixtures.stored("ticket.resolved", subject: "t-1", data: [:], position: 3)
        #expect(Deadlines.actions(for: resolved, order: nil, ticket: ticket).count == 3)
        // The deadline event consumes its own timer, so a replay leaves none behind.
        let fired = Fixtures.stored("ticket.response_overdue", subject: "t-1", data: [:], position: 4)
        #expect(Deadlines.actions(for: fired, order: nil, ticket: ticket) == [
            .cancel(type: "ticket.response_overdue", subject: "t-1", dueAt: fired.event.time),
        ])
    }
}

@Suite("Promises in the workflows")
struct PromiseWorkflowTests {
    let workflows = WorkflowSet(workflows: [
        Workflow(id: "dispatch_overdue", on: "order.dispatch_overdue", category: .orderStatus, channels: [.preferred, .fixed(.email)],
                 template: "t"),
        Workflow(id: "staff_dispatch", on: "order.dispatch_overdue", to: .staff, category: .alert, channels: [.fixed(.staff)], template: "s"),
        Workflow(id: "out_for_delivery", on: "order.out_for_delivery", category: .orderStatus, channels: [.preferred], template: "o"),
        Workflow(id: "complaint_ack", on: "ticket.opened", category: .acknowledgement, channels: [.preferred, .fixed(.email)],
                 template: "c", urgent: [.email]),
    ])
    let engine: WorkflowEngine

    init() {
        engine = WorkflowEngine(workflows: workflows, shop: Fixtures.shop, staffRecipient: "#care")
    }

    func order(_ events: [(String, JSONValue)]) -> Order? {
        var order: Order?
        for (index, (type, data)) in events.enumerated() {
            order = Reducers.order(order, Fixtures.stored(type, subject: "o-1", data: data, position: Int64(index + 1)))
        }
        return order
    }

    func quietCustomer(channels: [String]) -> Customer {
        var customer = Fixtures.customer(channels: channels, consent: ["sms": true])
        customer.timezone = "Europe/Dublin"
        customer.preferences.quietHours = Customer.QuietHours(start: "21:00", end: "08:00")
        return customer
    }

    @Test func aMissedShipByApologisesToTheCustomerAndAlertsStaff() throws {
        let overdue = Fixtures.stored("order.dispatch_overdue", subject: "o-1", data: ["due_at": "2026-11-24T17:00:00Z"], position: 2)
        let placed = order([("order.placed", Fixtures.placedData)])
        let intents = engine.intents(for: overdue, customer: Fixtures.customer(), order: Reducers.order(placed, overdue), ticket: nil,
                                     now: Fixtures.t0)
        #expect(intents.map(\.workflow) == ["dispatch_overdue", "staff_dispatch"])
        #expect(intents.map(\.channel) == [.email, .staff])
        #expect(intents.last?.recipient == "#care")
    }

    @Test func aDeadlineThatNoLongerAppliesSendsNothing() {
        let shipped = order([("order.placed", Fixtures.placedData), ("order.shipped", ["carrier": "DPD"])])
        let overdue = Fixtures.stored("order.dispatch_overdue", subject: "o-1", data: [:], position: 3)
        #expect(engine.intents(for: overdue, customer: Fixtures.customer(), order: shipped, ticket: nil, now: Fixtures.t0).isEmpty)
    }

    @Test func aCustomerToldAboutADelayRecentlyIsNotAlertedAgainButStaffAre() throws {
        let delayed = order([("order.placed", Fixtures.placedData), ("order.delayed", ["reason": "snow"])])
        let overdue = Fixtures.stored("order.dispatch_overdue", subject: "o-1", data: [:], position: 3)
        let after = try #require(Reducers.order(delayed, overdue))
        #expect(after.delayNoticeHeld == true)
        let intents = engine.intents(for: overdue, customer: Fixtures.customer(), order: after, ticket: nil, now: Fixtures.t0)
        // Routed, but redundant if the notice of the delay (position 2) was or will be delivered:
        // only the outbox knows, so the store decides.
        #expect(intents.first?.channel == .email)
        #expect(intents.first?.redundantIfToldSince == 2)
        #expect(intents.last?.channel == .staff)
        #expect(intents.last?.redundantIfToldSince == nil)
        // Outside the window, the customer hears about it again.
        let late = StoredEvent(position: 4, recordedAt: Fixtures.t0, event: CloudEvent(
            id: "x", source: "urn:test", type: "order.delivery_overdue", subject: "o-1", time: Fixtures.t0.addingTimeInterval(4 * 86_400),
            data: [:]))
        #expect(Reducers.order(after, late)?.delayNoticeHeld == false)
    }

    @Test func quietHoursHoldAnSMSButNotAnUrgentEmail() throws {
        let night = Timestamp.parse("2026-11-23T23:30:00Z")!
        let scan = Fixtures.stored("order.out_for_delivery", subject: "o-1", data: [:], position: 2)
        let sms = try #require(engine.intents(for: scan, customer: quietCustomer(channels: ["sms"]), order: order([("order.placed", Fixtures.placedData)]),
                                              ticket: nil, now: night).first)
        #expect(sms.channel == .sms)
        #expect(sms.notBefore.map(Timestamp.format) == "2026-11-24T08:00:00Z")
        let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"])
        let ticket = Reducers.ticket(nil, opened, promises: .standard)
        let email = try #require(engine.intents(for: opened, customer: quietCustomer(channels: ["email"]), order: nil, ticket: ticket, now: night).first)
        #expect(email.channel == .email)
        #expect(email.notBefore == nil)
        let smsAck = try #require(engine.intents(for: opened, customer: quietCustomer(channels: ["sms"]), order: nil, ticket: ticket, now: night).first)
        #expect(smsAck.channel == .sms)
        #expect(smsAck.notBefore != nil)
    }

    @Test func orderNewsFallsBackToEmailWhenNoPreferredChannelIsUsable() throws {
        let customer = Fixtures.customer(channels: ["sms"], consent: [:])
        let scan = Fixtures.stored("order.out_for_delivery", subject: "o-1", data: [:], position: 2)
        let intent = try #require(engine.intents(for: scan, customer: customer, order: nil, ticket: nil, now: Fixtures.t0).first)
        #expect(intent.channel == .email)
    }

    @Test func theAcknowledgementQuotesPromisedTimesInTheCustomersZone() throws {
        var customer = Fixtures.customer()
        customer.timezone = "Europe/Berlin"
        let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"])
        let ticket = Reducers.ticket(nil, opened, promises: .standard)
        let intent = try #require(engine.intents(for: opened, customer: customer, order: nil, ticket: ticket, now: Fixtures.t0).first)
        #expect(intent.context.value(atPath: "ticket.first_response_due") == "2026-11-19 11:37 Europe/Berlin")
        #expect(intent.context.value(atPath: "ticket.resolution_due") == "2026-12-30 18:30 Europe/Berlin")
    }
}
