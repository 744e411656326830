import Foundation

/// What a message's templates see (`customer`, `shop`, `event`, `order`, `ticket`, `data`), as
/// the typed values it is made of. `write(to:)` says once what the context holds: the pipeline
/// writes it straight to the stored bytes, in key order (a tree of dictionaries built for each
/// event, sorted and written once, was a quarter of the pipeline's own time), and rendering and
/// workflow conditions get the tree (`json`, `member`) from the same function. Money is
/// preformatted and dates are text, so templates stay logic-free.
public struct TemplateContext: Sendable, Hashable {
    // `let`: `ticketTerms` is worked out from the customer and the ticket when the context is made.
    public let customer: Customer
    public let shop: ShopInfo
    var eventID: String
    var eventType: String
    var eventTime: Date
    /// The event's data as sent (`dataValue` makes it customer-facing when written).
    var data: JSONValue
    public let order: Order?
    /// A disruption's affected orders of this customer, the first being `order`; nil for any
    /// other event.
    var disruptionGroup: [Order]?
    public let ticket: Ticket?
    /// The ticket's promise, and the zone its promised times are shown in.
    var ticketTerms: TicketTerms?

    struct TicketTerms: Sendable, Hashable {
        var promise: ServicePromises.Promise
        /// The customer's own zone, else the shop's.
        var zone: TimeZone
    }

    init(customer: Customer, shop: ShopInfo, eventID: String, eventType: String, eventTime: Date, data: JSONValue, order: Order?,
         ticket: Ticket?) {
        self.customer = customer
        self.shop = shop
        self.eventID = eventID
        self.eventType = eventType
        self.eventTime = eventTime
        self.data = data
        self.order = order
        self.ticket = ticket
    }

    /// A disruption's message also gets `several_orders`, `order_ids` ("o-1, o-2") and, when
    /// it is about several, `orders` (each affected order of the customer, the first being
    /// `order`), so one message can name them all.
    public static func make(event stored: StoredEvent, customer: Customer, order: Order?, ticket: Ticket?,
                            shop: ShopInfo, promises: ServicePromises, group: [Order] = []) -> TemplateContext {
        var context = TemplateContext(customer: customer, shop: shop, eventID: stored.event.id, eventType: stored.event.type,
                                      eventTime: stored.effectiveTime, data: stored.event.data, order: order, ticket: ticket)
        if order != nil, stored.event.type == Deadlines.disruption { context.disruptionGroup = group }
        if let ticket {
            context.ticketTerms = TicketTerms(promise: promises.promise(for: ticket.kind), zone: customer.timeZone(or: promises.calendar.timeZone))
        }
        return context
    }

    /// The context as a tree, for rendering.
    public var json: JSONValue { FieldWriter.value { write(to: &$0) } }

    /// One top-level member (`ticket`), without building the others: what a workflow
    /// condition asks about.
    public func member(_ key: String) -> JSONValue? {
        var writer = FieldWriter(only: key)
        write(to: &writer)
        return writer.fields[key]
    }

    /// The stored bytes: `json`'s, as `JSONWriter` writes them, without the tree.
    public func encoded() throws(JSONValue.EncodingError) -> [UInt8] { try DocumentWriter.document { write(to: &$0) } }

    /// The orders the message names beside `order`: every affected order of the customer when
    /// a disruption hits several, else none.
    var listedOrders: [Order] {
        guard let group = disruptionGroup, group.count > 1 else { return [] }
        return group
    }

    /// Members in the order of their keys' UTF-8 bytes (`FieldSink`); a test holds the bytes to
    /// the tree's.
    func write<Sink: FieldSink>(to w: inout Sink) {
        w.object("customer") { Self.writeCustomer(customer, to: &$0) }
        w.set("data", Self.dataValue(data))
        w.object("event") { w in
            w.set("id", eventID)
            w.set("time", Timestamp.dayAndTime(eventTime))
            w.set("type", eventType)
        }
        if let order {
            w.object("order") { Self.writeOrder(order, to: &$0) }
            if let group = disruptionGroup {
                // Every order (the list also says which orders the message told), each with what
                // a line about it needs, not its items. Left out for one order: every alert of a
                // large disruption would otherwise carry its order twice.
                w.set("order_ids", Self.orderIDs(group, alone: order))
                let listed = listedOrders
                if !listed.isEmpty { w.objects("orders", listed) { Self.writeOrder($1, listed: true, to: &$0) } }
                w.set("several_orders", group.count > 1)
            }
        }
        w.object("shop") { w in
            w.set("complaint_referral", shop.complaintReferral)
            w.set("email", shop.email)
            w.set("name", shop.name)
            w.set("phone", shop.phone)
            w.set("url", shop.url)
        }
        if let ticket, let terms = ticketTerms {
            w.object("ticket") { Self.writeTicket(ticket, promise: terms.promise, zone: terms.zone, to: &$0) }
        }
    }

    /// How many orders a disruption's message names in `order_ids` (an SMS must stay short).
    static let maximumNamed = 10

    static func orderIDs(_ group: [Order], alone order: Order) -> String {
        guard group.count > 1 else { return order.id }
        let named = group.prefix(maximumNamed).map(\.id).joined(separator: ", ")
        return group.count > maximumNamed ? "\(named) (+\(group.count - maximumNamed))" : named
    }

    static func customerValue(_ c: Customer) -> JSONValue { FieldWriter.value { writeCustomer(c, to: &$0) } }

    static func writeCustomer<Sink: FieldSink>(_ c: Customer, to w: inout Sink) {
        w.set("email", c.email)
        w.set("family_name", c.familyName)
        // `first_name` is what the templates greet with: kept as the key they already use.
        w.set("first_name", c.greeting ?? "")
        w.set("given_name", c.givenName)
        w.set("id", c.id)
        w.set("locale", c.locale)
        w.set("name", c.name ?? "")
        w.set("phone", c.phone)
    }

    /// An order, or (`listed`) an order as a line of a list: its id, status, delivery promise
    /// and tracking.
    static func writeOrder<Sink: FieldSink>(_ o: Order, listed: Bool = false, to w: inout Sink) {
        if !listed { w.set("currency", o.currency) }
        w.set("deliver_by", o.deliverBy.map(Timestamp.day))
        w.set("id", o.id)
        if !listed {
            w.set("item_count", o.items.reduce(0) { $0 + $1.quantity })
            w.objects("items", o.items) { w, item in
                w.set("line_total", money(item.unitPrice * item.quantity))
                w.set("name", item.name)
                w.set("quantity", item.quantity)
                w.set("sku", item.sku)
                w.set("unit_price", money(item.unitPrice))
            }
            w.set("placed_at", Timestamp.dayAndTime(o.placedAt))
            w.set("ship_by", o.shipBy.map(Timestamp.day))
            if let s = o.shipping {
                w.object("shipping") { w in
                    w.set("carrier", s.carrier)
                    w.set("postcode", s.postcode)
                    w.set("region", s.region)
                }
            }
        }
        w.set("status", o.status.rawValue)
        if !listed { w.set("total", money(o.total)) }
        if let t = o.tracking {
            w.object("tracking") { w in
                w.set("carrier", t.carrier)
                w.set("estimated_delivery", t.estimatedDelivery.map(dateText))
                w.set("number", t.number)
                w.set("url", t.url)
            }
        }
    }

    /// Promised times are shown in the customer's own time zone (else the shop's).
    static func ticketValue(_ t: Ticket, promises: ServicePromises, zone: TimeZone) -> JSONValue {
        FieldWriter.value { writeTicket(t, promise: promises.promise(for: t.kind), zone: zone, to: &$0) }
    }

    static func writeTicket<Sink: FieldSink>(_ t: Ticket, promise: ServicePromises.Promise, zone: TimeZone, to w: inout Sink) {
        w.set("first_response_due", Timestamp.dayAndTime(t.firstResponseDue, in: zone))
        w.set("first_response_hours", Double(promise.firstResponseHours))
        w.set("id", t.id)
        w.set("kind", t.kind)
        w.set("opened_at", Timestamp.dayAndTime(t.openedAt))
        w.set("order_id", t.orderID)
        w.set("reference", t.reference)
        w.set("resolution_days", Double(promise.resolutionDays))
        w.set("resolution_due", Timestamp.dayAndTime(t.resolutionDue, in: zone))
        w.set("summary", t.summary)
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
