import Foundation
import Testing
@testable import TidingsCore

@Suite("Read-model reducers")
struct ReducerTests {
    @Test func followsAnOrderThroughItsLifecycle() throws {
        var order = Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1))
        order = Reducers.order(order, Fixtures.stored("order.shipped", subject: "o-1", data: [
            "carrier": "ParcelCo", "tracking_number": "PC1", "tracking_url": "https://track.example/PC1",
        ], position: 2))
        order = Reducers.order(order, Fixtures.stored("order.delivered", subject: "o-1", data: [:], position: 3))
        let final = try #require(order)
        #expect(final.status == .delivered)
        #expect(final.items.count == 2)
        #expect(final.total == 59.8)
        #expect(final.tracking?.url == "https://track.example/PC1")
        #expect(final.timeline.map(\.type) == ["order.placed", "order.shipped", "order.delivered"])
        #expect(final.shipBy == Timestamp.parse("2026-11-24T17:00:00Z"))
    }

    @Test func ignoresEventsForOrdersItHasNotSeen() {
        #expect(Reducers.order(nil, Fixtures.stored("order.shipped", subject: "o-9", data: [:])) == nil)
    }

    @Test func placingTwiceDoesNotResetTheOrder() throws {
        let placed = Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 1))
        let shipped = Reducers.order(placed, Fixtures.stored("order.shipped", subject: "o-1", data: [:], position: 2))
        let again = Reducers.order(shipped, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData, position: 3))
        #expect(again?.status == .shipped)
    }

    @Test func customerUpdatesChangeConsentAndChannels() throws {
        var customer: Customer? = Fixtures.customer(channels: ["sms", "email"], consent: ["sms": true])
        #expect(customer?.preferences.consent == [.sms])
        customer = Reducers.customer(customer, Fixtures.stored("customer.updated", subject: "c-1", data: [
            "phone": "+447700900999", "preferences": ["consent": ["sms": false, "messenger": true], "channels": ["messenger"]],
        ], position: 5))
        #expect(customer?.phone == "+447700900999")
        #expect(customer?.preferences.consent == [.messenger])
        #expect(customer?.preferences.channels == [.messenger])
        #expect(customer?.email == "ann@example.com")
    }

    @Test func ticketsCarryTheirPromisedTimes() throws {
        let opened = Fixtures.stored("ticket.opened", subject: "t-1", data: ["customer_id": "c-1", "kind": "complaint"], position: 1)
        var ticket = Reducers.ticket(nil, opened, promises: .standard)
        let first = try #require(ticket)
        // Opened Wednesday 2026-11-18 11:07:40 UTC; the standard calendar works 09:00-17:30 UTC,
        // Monday to Friday: 8 working hours end Thursday 10:37:40, and 30 working days end at
        // closing time six weeks on.
        #expect(Timestamp.format(first.firstResponseDue) == "2026-11-19T10:37:40Z")
        #expect(Timestamp.format(first.resolutionDue) == "2026-12-30T17:30:00Z")
        #expect(first.resolutionDueSoon.map(Timestamp.format) == "2026-12-23T09:00:00Z")
        ticket = Reducers.ticket(ticket, Fixtures.stored("ticket.replied", subject: "t-1", data: ["by": "Sam"], position: 2), promises: .standard)
        ticket = Reducers.ticket(ticket, Fixtures.stored("ticket.resolved", subject: "t-1", data: [:], position: 3), promises: .standard)
        #expect(ticket?.status == .resolved)
        #expect(ticket?.firstResponseAt != nil)
        #expect(ticket?.resolvedAt != nil)
    }
}
