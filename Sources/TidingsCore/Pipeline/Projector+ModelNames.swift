/// The read models a projection looks up, by table. The store reads them ahead of the writer,
/// on the other core, while the batch before is applied (the SQLite store's lookahead).
public struct ModelNames: Sendable, Hashable {
    public var customers: [String] = []
    public var orders: [String] = []
    public var tickets: [String] = []

    public init() {}

    public var isEmpty: Bool { customers.isEmpty && orders.isEmpty && tickets.isEmpty }
}

extension Projector {
    /// What `project` looks up for this event, as far as the event itself names it. An order's
    /// or ticket's own customer (and a ticket's order) is named by the model once it is read:
    /// `modelsNamed(by: Order)` and `modelsNamed(by: Ticket)`. A name missed here costs only a
    /// read on the writer; one named needlessly, only a read ahead.
    public static func modelsNamed(by event: CloudEvent) -> ModelNames {
        var names = ModelNames()
        if let receipt = Receipt(event) {
            names.customers.append(receipt.customerID)
            return names
        }
        guard let subject = event.subject, event.type != Deadlines.disruption, event.type != PersonalData.forgottenType else { return names }
        // A new order or ticket names its customer (and order) in its data: it is not in the table yet.
        if let customer = event.data["customer_id"]?.stringValue { names.customers.append(customer) }
        if event.type.hasPrefix("customer.") {
            names.customers.append(subject)
        } else if event.type.hasPrefix("order.") {
            names.orders.append(subject)
        } else if event.type.hasPrefix("ticket.") {
            names.tickets.append(subject)
            if let order = event.data["order_id"]?.stringValue { names.orders.append(order) }
        }
        return names
    }

    /// An order event reads the order's customer.
    public static func modelsNamed(by order: Order) -> ModelNames {
        var names = ModelNames()
        names.customers = [order.customerID]
        return names
    }

    /// A ticket event reads the ticket's customer and the order it is about.
    public static func modelsNamed(by ticket: Ticket) -> ModelNames {
        var names = ModelNames()
        names.customers = [ticket.customerID]
        if let order = ticket.orderID { names.orders = [order] }
        return names
    }
}
