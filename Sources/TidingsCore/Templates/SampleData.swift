import Foundation

/// A complete, made-up set of models and event data, used by `tidings check` to render every
/// template and catch variables that would come out empty.
public enum SampleData {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)

    static let dataByType: [String: JSONValue] = [
        "order.placed": [
            "customer_id": "c-sample", "total": 59.8, "currency": "EUR", "dispatch_by": "2026-11-24T17:00:00Z",
            "deliver_by": "2026-11-27T17:00:00Z", "shipping": ["region": "north-west", "postcode": "M1 1AA", "carrier": "ParcelCo"],
            "items": [["sku": "MUG-01", "name": "Stoneware mug", "quantity": 2, "unit_price": 12.5],
                      ["sku": "TEA-02", "name": "Assam tea", "quantity": 1, "unit_price": 34.8]],
        ],
        "order.item_out_of_stock": ["sku": "MUG-01", "name": "Stoneware mug", "expected_restock": "2026-11-30",
                                    "options": ["wait", "substitute", "cancel"]],
        "order.shipped": ["carrier": "ParcelCo", "tracking_number": "PC123456789", "tracking_url": "https://track.example/PC123456789",
                          "estimated_delivery": "2026-11-26"],
        "order.out_for_delivery": ["at": "2026-11-26T08:10:00Z"],
        "order.delivered": ["at": "2026-11-26T13:45:00Z"],
        "order.delayed": ["reason": "snow in the north-west", "new_estimate": "2026-11-29"],
        "order.cancelled": ["reason": "customer request", "amount": 59.8],
        "order.refunded": ["reason": "returned item", "amount": 25.0],
        "order.return_requested": ["rma": "RMA-2001", "reason": "damaged in transit", "items": [["sku": "MUG-01", "quantity": 1]]],
        "shipping.disruption_announced": ["region": "north-west", "carrier": "ParcelCo", "reason": "snow", "new_estimate": "2026-11-29"],
        "ticket.opened": ["customer_id": "c-sample", "kind": "complaint", "summary": "Mug arrived broken", "order_id": "o-sample",
                          "channel": "email"],
        "ticket.replied": ["by": "Sam", "note": "Replacement on its way"],
        "ticket.escalated": ["by": "Sam", "note": "Needs a manager"],
        "ticket.resolved": ["by": "Sam", "note": "Replacement delivered"],
        "ticket.reopened": ["by": "Sam", "note": "Customer wrote back"],
        "order.dispatch_overdue": ["due_at": "2026-11-24T17:00:00Z"],
        "order.delivery_overdue": ["due_at": "2026-11-27T17:00:00Z"],
        "ticket.response_overdue": ["due_at": "2026-11-25T17:00:00Z"],
        "ticket.resolution_due_soon": ["due_at": "2026-12-29T09:00:00Z"],
        "ticket.resolution_overdue": ["due_at": "2027-01-05T17:30:00Z"],
    ]

    public static func event(type: String, position: Int64 = 10) -> StoredEvent {
        let subject = type.hasPrefix("ticket.") ? "t-sample" : type.hasPrefix("customer.") ? "c-sample" : "o-sample"
        let event = CloudEvent(id: "sample-\(type)", source: "urn:tidings:sample", type: type, subject: subject, time: time,
                               data: dataByType[type] ?? .object([:]))
        return StoredEvent(position: position, recordedAt: time, event: event)
    }

    public static var customer: Customer {
        let registered = CloudEvent(id: "sample-customer", source: "urn:tidings:sample", type: "customer.registered", subject: "c-sample",
                                    time: time, data: [
                                        "name": "Ann Example", "given_name": "Ann", "email": "ann@example.com", "phone": "+447700900123",
                                        "messenger_id": "psid-1", "locale": "en",
                                        "preferences": ["channels": ["email", "sms"], "consent": ["sms": true, "messenger": true]],
                                    ])
        return Reducers.customer(nil, StoredEvent(position: 1, recordedAt: time, event: registered)) ?? Customer(id: "c-sample")
    }

    public static var order: Order? {
        let placed = Reducers.order(nil, event(type: "order.placed", position: 2))
        return Reducers.order(placed, event(type: "order.shipped", position: 3))
    }

    public static func ticket(promises: ServicePromises) -> Ticket? {
        Reducers.ticket(nil, event(type: "ticket.opened", position: 4), promises: promises)
    }

    /// The context a workflow's templates see, for an event of its type.
    public static func context(for workflow: Workflow, engine: WorkflowEngine) -> JSONValue {
        let stored = event(type: workflow.on)
        let isTicket = workflow.on.hasPrefix("ticket.")
        let order = isTicket || workflow.on.hasPrefix("order.") || workflow.on == Deadlines.disruption ? self.order : nil
        let ticket = isTicket ? self.ticket(promises: engine.promises) : nil
        // A disruption's sample hits two orders, so `tidings check` sees the templates' list of them.
        var second = order
        second?.id = "o-sample-2"
        let group = workflow.on == Deadlines.disruption ? [order, second].compactMap { $0 } : []
        return TemplateContext.make(event: stored, customer: customer, order: order, ticket: ticket, shop: engine.shop,
                                    promises: engine.promises, group: group).json
    }
}
