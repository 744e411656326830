import Foundation

/// Events run through the pipeline's rules against the models as they stand, with nothing
/// stored: what `tidings preview` shows. What the events change is kept in an overlay, so an
/// order placed and then shipped in one file previews as the pipeline would apply them.
public struct Preview<Base: ModelLookup>: ModelLookup {
    public let projector: Projector
    var base: Base
    var customers: [String: Customer] = [:]
    var orders: [String: Order] = [:]
    var tickets: [String: Ticket] = [:]

    public init(engine: WorkflowEngine, base: Base) {
        projector = Projector(engine: engine)
        self.base = base
    }

    /// What one event would do now; `now` decides quiet hours.
    public mutating func project(_ stored: StoredEvent, now: Date) throws -> Projection {
        let projector = self.projector
        let projection = try projector.project(stored, models: &self, now: now)
        if let customer = projection.customer { customers[customer.id] = customer }
        if let order = projection.order { orders[order.id] = order }
        if let ticket = projection.ticket { tickets[ticket.id] = ticket }
        return projection
    }

    public mutating func customer(_ id: String) throws -> Customer? {
        if let customer = customers[id] { return customer }
        return try base.customer(id)
    }

    public mutating func order(_ id: String) throws -> Order? {
        if let order = orders[id] { return order }
        return try base.order(id)
    }

    public mutating func ticket(_ id: String) throws -> Ticket? {
        if let ticket = tickets[id] { return ticket }
        return try base.ticket(id)
    }
}
