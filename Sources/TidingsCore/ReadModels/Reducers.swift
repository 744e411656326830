import Foundation

/// Pure reducers: each takes the current state of one entity and an event and returns the next
/// state. Events about an entity that does not exist yet leave it absent rather than invent it.
public enum Reducers {
    public static func customer(_ current: Customer?, _ stored: StoredEvent) -> Customer? {
        let event = stored.event
        // One-click unsubscribe adds to what the customer opted out of; it never replaces it.
        if event.type == UnsubscribeLinks.eventType {
            guard var customer = current, let category = event.data["category"]?.stringValue else { return current }
            customer.preferences.optOut.insert(category)
            customer.updatedAt = stored.effectiveTime
            return customer
        }
        // Receipts and lifted suppressions change what may be used to reach the customer.
        if let receipt = Receipt(event) {
            guard var customer = current else { return current }
            customer.apply(receipt, at: stored.effectiveTime)
            return customer
        }
        if event.type == Suppression.liftedType {
            guard var customer = current, let channel = event.data["channel"]?.stringValue.flatMap(Channel.init(rawValue:)),
                  let address = event.data["address"]?.stringValue
            else { return current }
            customer.lift(channel: channel, address: address, at: stored.effectiveTime)
            return customer
        }
        guard event.type == "customer.registered" || event.type == "customer.updated", let id = event.subject else {
            return current
        }
        var customer = current ?? Customer(id: id)
        let data = event.data
        if let v = data["name"]?.stringValue { customer.name = v }
        if let v = data["given_name"]?.stringValue { customer.givenName = v }
        if let v = data["family_name"]?.stringValue { customer.familyName = v }
        if let v = data["greeting_name"]?.stringValue { customer.greetingName = v }
        if let v = data["email"]?.stringValue { customer.email = v }
        if let v = data["phone"]?.stringValue { customer.phone = v }
        if let v = data["messenger_id"]?.stringValue { customer.messengerID = v }
        if let v = data["locale"]?.stringValue { customer.locale = v }
        if let v = data["timezone"]?.stringValue { customer.timezone = v }
        if let prefs = data["preferences"] {
            if let channels = prefs["channels"]?.arrayValue {
                customer.preferences.channels = channels.compactMap { $0.stringValue.flatMap(Channel.init(customerChoice:)) }
            }
            if let consent = prefs["consent"]?.objectValue {
                for (name, value) in consent {
                    guard let channel = Channel(customerChoice: name), let given = value.boolValue else { continue }
                    if given { customer.preferences.consent.insert(channel) } else { customer.preferences.consent.remove(channel) }
                }
            }
            if let quiet = prefs["quiet_hours"], let start = quiet["start"]?.stringValue, let end = quiet["end"]?.stringValue {
                customer.preferences.quietHours = Customer.QuietHours(start: start, end: end)
            }
            if let optOut = prefs["opt_out"]?.arrayValue {
                customer.preferences.optOut = Set(optOut.compactMap(\.stringValue))
            }
        }
        if event.type == "customer.registered", customer.registeredAt == nil { customer.registeredAt = stored.effectiveTime }
        customer.updatedAt = stored.effectiveTime
        return customer
    }

    /// `promises` holds the delay-alert window (a proactive alert within it of the last delay
    /// notice is held back, see `Order.delayNoticeHeld`) and the calendar whose time zone ends a
    /// day-only estimate.
    public static func order(_ current: Order?, _ stored: StoredEvent, promises: ServicePromises = .standard) -> Order? {
        let event = stored.event
        guard event.type.hasPrefix("order."), let id = event.subject else { return current }
        let data = event.data
        let at = stored.effectiveTime
        if event.type == "order.placed" {
            guard current == nil, let customerID = data["customer_id"]?.stringValue else { return current }
            let items = (data["items"]?.arrayValue ?? []).compactMap { item -> Order.Item? in
                guard let sku = item["sku"]?.stringValue else { return nil }
                return Order.Item(sku: sku, name: item["name"]?.stringValue ?? sku,
                                  quantity: item["quantity"]?.numberValue ?? 1, unitPrice: item["unit_price"]?.numberValue ?? 0)
            }
            let shipping = data["shipping"].map {
                Order.Shipping(region: $0["region"]?.stringValue, postcode: $0["postcode"]?.stringValue, carrier: $0["carrier"]?.stringValue)
            }
            var order = Order(id: id, customerID: customerID, status: .placed, items: items,
                              total: data["total"]?.numberValue ?? 0, currency: data["currency"]?.stringValue ?? "",
                              placedAt: at, shipBy: data["dispatch_by"]?.stringValue.flatMap(Timestamp.parse),
                              deliverBy: data["deliver_by"]?.stringValue.flatMap(Timestamp.parse), shipping: shipping)
            order.timeline.append(TimelineEntry(at: at, type: event.type, position: stored.position))
            return order
        }
        guard var order = current else { return nil }
        if Deadlines.types.contains(event.type) {
            // A deadline that no longer matters (the parcel left, or arrived) leaves no trace.
            guard Deadlines.isLive(event.type, dueAt: event.time, order: order, ticket: nil) else { return order }
            order.noteProactiveDelay(at: at, position: stored.position, window: promises.delayAlertWindow)
        }
        switch event.type {
        case "order.item_out_of_stock":
            if let sku = data["sku"]?.stringValue, !order.outOfStock.contains(sku) { order.outOfStock.append(sku) }
        case "order.shipped":
            order.status = .shipped
            order.tracking = Order.Tracking(
                carrier: data["carrier"]?.stringValue ?? order.shipping?.carrier, number: data["tracking_number"]?.stringValue,
                url: data["tracking_url"]?.stringValue, estimatedDelivery: data["estimated_delivery"]?.stringValue)
        case "order.out_for_delivery": order.status = .outForDelivery
        case "order.delivered": order.status = .delivered
        case "order.delayed":
            if order.status == .placed { order.status = .delayed }
            // The shop told the customer itself: that counts as a delay notice.
            order.delayNoticeAt = at
            order.delayNoticePosition = stored.position
            order.delayNoticeHeld = false
            order.revise(estimate: data["new_estimate"]?.stringValue, zone: promises.calendar.timeZone)
        case "order.cancelled": order.status = .cancelled
        case "order.return_requested": order.status = .returnRequested
        case "order.refunded":
            // A partial refund (a goodwill gesture) leaves the order where it is.
            if (data["amount"]?.numberValue).map({ $0 >= order.total - 0.005 }) ?? true { order.status = .refunded }
        default: break
        }
        let note = data["reason"]?.stringValue ?? data["note"]?.stringValue
        order.timeline.append(TimelineEntry(at: at, type: event.type, position: stored.position, note: note))
        return order
    }

    public static func ticket(_ current: Ticket?, _ stored: StoredEvent, promises: ServicePromises) -> Ticket? {
        let event = stored.event
        guard event.type.hasPrefix("ticket."), let id = event.subject else { return current }
        let data = event.data
        let at = stored.effectiveTime
        if event.type == "ticket.opened" {
            guard current == nil, let customerID = data["customer_id"]?.stringValue else { return current }
            let kind = data["kind"]?.stringValue ?? "query"
            let deadlines = promises.deadlines(kind: kind, openedAt: at)
            var ticket = Ticket(
                id: id, customerID: customerID, kind: kind, status: .open, summary: data["summary"]?.stringValue,
                orderID: data["order_id"]?.stringValue, channel: data["channel"]?.stringValue, openedAt: at,
                firstResponseDue: deadlines.firstResponse, resolutionDue: deadlines.resolution, resolutionDueSoon: deadlines.dueSoon)
            ticket.timeline.append(TimelineEntry(at: at, type: event.type, position: stored.position, note: ticket.summary))
            return ticket
        }
        guard var ticket = current else { return nil }
        guard Deadlines.isLive(event.type, dueAt: event.time, order: nil, ticket: ticket) else { return ticket }
        switch event.type {
        case "ticket.replied":
            if ticket.firstResponseAt == nil { ticket.firstResponseAt = at }
            if ticket.status == .open { ticket.status = .answered }
        case "ticket.escalated": ticket.status = .escalated
        case "ticket.resolved":
            ticket.status = .resolved
            ticket.resolvedAt = at
        case "ticket.reopened":
            ticket.status = .open
            ticket.resolvedAt = nil
        default: break
        }
        ticket.timeline.append(TimelineEntry(at: at, type: event.type, position: stored.position, note: data["note"]?.stringValue))
        return ticket
    }

    /// An announced disruption, applied to one order it affects (the event names a region or a
    /// carrier, not the order).
    public static func disruption(_ order: Order, _ stored: StoredEvent, promises: ServicePromises) -> Order {
        var order = order
        let data = stored.event.data
        order.noteProactiveDelay(at: stored.effectiveTime, position: stored.position, window: promises.delayAlertWindow)
        order.revise(estimate: data["new_estimate"]?.stringValue, zone: promises.calendar.timeZone)
        order.timeline.append(TimelineEntry(at: stored.effectiveTime, type: stored.event.type, position: stored.position,
                                            note: data["reason"]?.stringValue))
        return order
    }
}

extension Order {
    /// A new estimated delivery becomes the promise: the delivery deadline moves to the end of
    /// that day in the shop's time zone (never earlier than it was).
    mutating func revise(estimate text: String?, zone: TimeZone) {
        guard let text else { return }
        tracking = tracking ?? Order.Tracking()
        tracking?.estimatedDelivery = text
        let end = Timestamp.parse(text) ?? Timestamp.endOfDay(text, in: zone)
        if let end, end > (deliverBy ?? .distantPast) { deliverBy = end }
    }

    /// A proactive delay alert goes to the customer unless they were told about a delay within
    /// the window; a held alert does not restart the window. "Held" only marks the alert as
    /// possibly redundant: the store sends it after all when no notice since the window opened
    /// was delivered or is on its way (`NotificationIntent.redundantIfToldSince`).
    mutating func noteProactiveDelay(at: Date, position: Int64, window: TimeInterval) {
        if let last = delayNoticeAt, abs(at.timeIntervalSince(last)) < window {
            delayNoticeHeld = true
        } else {
            delayNoticeAt = at
            delayNoticePosition = position
            delayNoticeHeld = false
        }
    }
}
