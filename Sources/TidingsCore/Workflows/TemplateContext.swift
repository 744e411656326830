import Foundation

/// Builds the values a template can use (`customer`, `shop`, `event`, `order`, `ticket`,
/// `data`). Money is preformatted and dates are text, so templates stay logic-free.
public enum TemplateContext {
    /// A disruption's message also gets `several_orders`, `order_ids` ("o-1, o-2") and, when
    /// it is about several, `orders` (each affected order of the customer, the first being
    /// `order`), so one message can name them all.
    public static func make(event stored: StoredEvent, customer: Customer, order: Order?, ticket: Ticket?,
                            shop: ShopInfo, promises: ServicePromises, group: [Order] = []) -> JSONValue {
        var context: [String: JSONValue] = [
            "customer": customerValue(customer),
            "shop": [
                "name": .string(shop.name), "email": .string(shop.email), "url": .string(shop.url), "phone": .string(shop.phone),
                "complaint_referral": .string(shop.complaintReferral),
            ],
            "event": [
                "id": .string(stored.event.id), "type": .string(stored.event.type),
                "time": .string(Timestamp.dayAndTime(stored.effectiveTime)),
            ],
            "data": dataValue(stored.event.data),
        ]
        if let order { context["order"] = orderValue(order) }
        if let order, stored.event.type == Deadlines.disruption {
            context["several_orders"] = .bool(group.count > 1)
            if group.count > 1 {
                // Every order (the list also says which orders the message told), each with
                // what a line about it needs, not its items. Left out for one order: every alert
                // of a large disruption would otherwise carry its order twice.
                context["orders"] = .array(group.map(listedOrderValue))
                let named = group.prefix(maximumNamed).map(\.id).joined(separator: ", ")
                context["order_ids"] = .string(group.count > maximumNamed ? "\(named) (+\(group.count - maximumNamed))" : named)
            } else {
                context["order_ids"] = .string(order.id)
            }
        }
        if let ticket { context["ticket"] = ticketValue(ticket, promises: promises, zone: customer.timeZone(or: promises.calendar.timeZone)) }
        return .object(context)
    }

    /// How many orders a disruption's message names in `order_ids` (an SMS must stay short).
    static let maximumNamed = 10

    /// An order as a line of a list: its id, status, delivery promise and tracking.
    static func listedOrderValue(_ o: Order) -> JSONValue {
        guard case .object(let fields) = orderValue(o) else { return .object([:]) }
        return .object(fields.filter { ["id", "status", "deliver_by", "tracking"].contains($0.key) })
    }

    static func customerValue(_ c: Customer) -> JSONValue {
        var fields: [String: JSONValue] = ["id": .string(c.id)]
        fields["name"] = .string(c.name ?? "")
        // `first_name` is what the templates greet with: kept as the key they already use.
        fields["first_name"] = .string(c.greeting ?? "")
        if let v = c.givenName { fields["given_name"] = .string(v) }
        if let v = c.familyName { fields["family_name"] = .string(v) }
        if let v = c.email { fields["email"] = .string(v) }
        if let v = c.phone { fields["phone"] = .string(v) }
        if let v = c.locale { fields["locale"] = .string(v) }
        return .object(fields)
    }

    static func orderValue(_ o: Order) -> JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(o.id), "status": .string(o.status.rawValue), "currency": .string(o.currency),
            "total": .string(money(o.total)), "placed_at": .string(Timestamp.dayAndTime(o.placedAt)),
            "item_count": .number(o.items.reduce(0) { $0 + $1.quantity }),
            "items": .array(o.items.map { item in
                [
                    "sku": .string(item.sku), "name": .string(item.name), "quantity": .number(item.quantity),
                    "unit_price": .string(money(item.unitPrice)), "line_total": .string(money(item.unitPrice * item.quantity)),
                ]
            }),
        ]
        if let d = o.shipBy { fields["ship_by"] = .string(Timestamp.day(d)) }
        if let d = o.deliverBy { fields["deliver_by"] = .string(Timestamp.day(d)) }
        if let s = o.shipping {
            fields["shipping"] = .object(compact(["region": s.region, "postcode": s.postcode, "carrier": s.carrier]))
        }
        if let t = o.tracking {
            fields["tracking"] = .object(compact([
                "carrier": t.carrier, "number": t.number, "url": t.url, "estimated_delivery": t.estimatedDelivery.map(dateText),
            ]))
        }
        return .object(fields)
    }

    /// Promised times are shown in the customer's own time zone (else the shop's).
    static func ticketValue(_ t: Ticket, promises: ServicePromises, zone: TimeZone) -> JSONValue {
        let promise = promises.promise(for: t.kind)
        var fields: [String: JSONValue] = [
            "id": .string(t.id), "reference": .string(t.reference), "kind": .string(t.kind),
            "opened_at": .string(Timestamp.dayAndTime(t.openedAt)),
            "first_response_due": .string(Timestamp.dayAndTime(t.firstResponseDue, in: zone)),
            "resolution_due": .string(Timestamp.dayAndTime(t.resolutionDue, in: zone)),
            "first_response_hours": .number(Double(promise.firstResponseHours)),
            "resolution_days": .number(Double(promise.resolutionDays)),
        ]
        if let v = t.summary { fields["summary"] = .string(v) }
        if let v = t.orderID { fields["order_id"] = .string(v) }
        return .object(fields)
    }

    /// Event data as sent, with amounts as money and dates as customer-facing text.
    static func dataValue(_ data: JSONValue) -> JSONValue {
        guard var fields = data.objectValue else { return data }
        if let amount = fields["amount"]?.numberValue { fields["amount"] = .string(money(amount)) }
        for key in ["expected_restock", "new_estimate", "estimated_delivery"] {
            if let text = fields[key]?.stringValue { fields[key] = .string(dateText(text)) }
        }
        for key in ["at", "due_at"] {
            if let text = fields[key]?.stringValue, let date = Timestamp.parse(text) { fields[key] = .string(Timestamp.dayAndTime(date)) }
        }
        return .object(fields)
    }

    static func compact(_ fields: [String: String?]) -> [String: JSONValue] {
        fields.compactMapValues { $0.map(JSONValue.string) }
    }

    /// Two decimals, for any value: amounts the validator would refuse today (an event stored
    /// by an older version, a line total) must never trap on their way to a template.
    public static func money(_ value: Double) -> String {
        guard value.magnitude < 1e16 else { return value.description }
        let cents = Int64((value * 100).rounded())
        let sign = cents < 0 ? "-" : ""
        let absolute = abs(cents)
        let fraction = absolute % 100
        return "\(sign)\(absolute / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A date or timestamp as a day, or the text as it came when it is neither.
    static func dateText(_ text: String) -> String {
        if let date = Timestamp.parse(text) { return Timestamp.day(date) }
        return text
    }
}
