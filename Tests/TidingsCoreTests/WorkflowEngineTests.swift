import Foundation
import Testing
@testable import TidingsCore

@Suite("Workflow rules")
struct WorkflowEngineTests {
    let workflows = WorkflowSet(workflows: [
        Workflow(id: "order_shipped", on: "order.shipped", category: .orderStatus, channels: [.preferred, .fixed(.email)], template: "order_shipped"),
        Workflow(id: "complaint_ack", on: "ticket.opened", when: ["ticket.kind": ["complaint"]], category: .acknowledgement,
                 channels: [.preferred, .fixed(.email)], template: "complaint"),
        Workflow(id: "query_ack", on: "ticket.opened", when: ["ticket.kind": ["query", "return"]], category: .acknowledgement,
                 channels: [.fixed(.email)], template: "query"),
        Workflow(id: "ticket_resolved", on: "ticket.resolved", category: .followUp, channels: [.fixed(.email)], template: "resolved"),
        Workflow(id: "sms_only", on: "order.delivered", category: .orderStatus, channels: [.fixed(.sms)], template: "delivered"),
    ])

    var engine: WorkflowEngine { WorkflowEngine(workflows: workflows, shop: Fixtures.shop) }

    func shipped(_ customer: Customer) -> [NotificationIntent] {
        let order = Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData))
        return engine.intents(for: Fixtures.stored("order.shipped", subject: "o-1", data: [:], position: 2), customer: customer,
                              order: order, ticket: nil, now: Fixtures.t0)
    }

    @Test func preferredUsesTheCustomersOwnOrderWithConsent() throws {
        let intent = try #require(shipped(Fixtures.customer(channels: ["sms", "email"], consent: ["sms": true])).first)
        #expect(intent.channel == .sms)
        #expect(intent.recipient == "+447700900123")
        #expect(intent.fallbacks == [Route(channel: .email, recipient: "ann@example.com")])
    }

    @Test func smsWithoutConsentFallsBackToEmail() throws {
        let intent = try #require(shipped(Fixtures.customer(channels: ["sms", "email"], consent: [:])).first)
        #expect(intent.channel == .email)
        #expect(intent.recipient == "ann@example.com")
    }

    @Test func noUsableChannelIsRecordedWithAReason() throws {
        let customer = Fixtures.customer(channels: ["sms"], consent: [:], email: nil)
        let delivered = engine.intents(for: Fixtures.stored("order.delivered", subject: "o-1", data: [:], position: 3), customer: customer,
                                       order: nil, ticket: nil, now: Fixtures.t0)
        let intent = try #require(delivered.first)
        #expect(intent.channel == nil)
        #expect(intent.skipReason?.contains("sms: no consent") == true)
    }

    @Test func conditionsPickTheRightAcknowledgement() throws {
        let customer = Fixtures.customer()
        for (kind, expected) in [("complaint", "complaint_ack"), ("query", "query_ack"), ("feedback", nil)] {
            let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": .string(kind)])
            let ticket = Reducers.ticket(nil, opened, promises: .standard)
            let intents = engine.intents(for: opened, customer: customer, order: nil, ticket: ticket, now: Fixtures.t0)
            #expect(intents.map(\.workflow) == (expected.map { [$0] } ?? []))
        }
    }

    @Test func optOutSkipsFollowUpsButNeverAcknowledgements() throws {
        let customer = Fixtures.customer(optOut: ["follow_up", "acknowledgement"])
        let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"])
        let ticket = Reducers.ticket(nil, opened, promises: .standard)
        #expect(engine.intents(for: opened, customer: customer, order: nil, ticket: ticket, now: Fixtures.t0).first?.channel == .email)
        let resolved = Fixtures.stored("ticket.resolved", subject: "t-1", data: [:], position: 2)
        let followUp = try #require(engine.intents(for: resolved, customer: customer, order: nil, ticket: ticket, now: Fixtures.t0).first)
        #expect(followUp.channel == nil)
        #expect(followUp.skipReason?.contains("opted out") == true)
    }

    @Test func keysAreStableAndDistinct() {
        let a = IdempotencyKey.make(workflow: "order_shipped", source: "urn:shop", eventID: "e-1")
        #expect(a == IdempotencyKey.make(workflow: "order_shipped", source: "urn:shop", eventID: "e-1"))
        #expect(a != IdempotencyKey.make(workflow: "order_shipped", source: "urn:shop", eventID: "e-2"))
        #expect(a != IdempotencyKey.make(workflow: "order_delivered", source: "urn:shop", eventID: "e-1"))
        #expect(a.hasPrefix("order_shipped."))
        // SHA-256 of the source, a NUL and the event id (Python's hashlib): keys already in
        // outboxes must come out the same after any change to how they are made.
        #expect(a == "order_shipped.5fd8ab047fdf41816d29f180db988e400fa6ddbf271142bf3f09c00e31aea818")
        #expect(IdempotencyKey.make(workflow: "w", source: "urn:shöp", eventID: "é-1")
            == "w.26b2969d52abb8c2a7cc594918ea1e63a4b0b718e1540f8391eea66dfad12362")
    }

    @Test func contextHasFormattedMoneyAndItems() throws {
        let intent = try #require(shipped(Fixtures.customer()).first)
        #expect(intent.context.value(atPath: "order.total") == "59.80")
        #expect(intent.context.value(atPath: "order.items")?.arrayValue?.first?["line_total"] == "25.00")
        #expect(intent.context.value(atPath: "customer.first_name") == "Ann Example")
        #expect(intent.context.value(atPath: "shop.name") == "Northwind")
    }

    /// "O'Brien, Liam" was greeted "Hello O'Brien,,": a name is never cut into pieces.
    @Test func greetingsUseTheNameGivenForItOrTheWholeName() throws {
        func greeting(_ data: JSONValue) -> JSONValue? {
            let customer = Reducers.customer(nil, Fixtures.stored("customer.registered", subject: "c-1", data: data))!
            return TemplateContext.customerValue(customer)["first_name"]
        }
        #expect(greeting(["name": "O'Brien, Liam"]) == "O'Brien, Liam")
        #expect(greeting(["name": "O'Brien, Liam", "given_name": "Liam", "family_name": "O'Brien"]) == "Liam")
        #expect(greeting(["name": "Margaret Thatcher-Smith", "given_name": "Margaret", "greeting_name": "Maggie"]) == "Maggie")
        #expect(greeting(["greeting_name": "  ", "name": "Zoë"]) == "Zoë")
        #expect(greeting([:]) == "")
    }

    /// A channel the shop does not use is never chosen: the message takes the next one.
    @Test func aChannelThatIsOffIsPassedOver() throws {
        var engine = self.engine
        engine.channelsOff = [.sms]
        let customer = Fixtures.customer(channels: ["sms", "email"], consent: ["sms": true])
        let order = Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData))
        let shipped = engine.intents(for: Fixtures.stored("order.shipped", subject: "o-1", data: [:], position: 2), customer: customer,
                                     order: order, ticket: nil, now: Fixtures.t0)
        #expect(shipped.first?.channel == .email)
        let delivered = engine.intents(for: Fixtures.stored("order.delivered", subject: "o-1", data: [:], position: 3), customer: customer,
                                       order: order, ticket: nil, now: Fixtures.t0)
        #expect(delivered.first?.channel == .email)  // sms only, essential: email is the last resort
        engine.channelsOff = [.sms, .email]
        let none = engine.intents(for: Fixtures.stored("order.shipped", subject: "o-1", data: [:], position: 2), customer: customer,
                                  order: order, ticket: nil, now: Fixtures.t0)
        #expect(none.first?.skipReason?.contains("sms: channel off") == true)
    }
}
