import Foundation

/// The read models a projection looks at: the store's cache of them, or a dictionary in tests.
/// A model that is not there is nil.
public protocol ModelLookup {
    mutating func customer(_ id: String) throws -> Customer?
    mutating func order(_ id: String) throws -> Order?
    mutating func ticket(_ id: String) throws -> Ticket?
}

/// What one event does, decided without I/O and without a clock: the store carries it out in
/// the batch's unit of work (models, outbox rows, timers, held events, checkpoint together).
public struct Projection: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// Applied: the models below are the ones it changed.
        case applied
        /// About an order or ticket that does not exist yet (`order:o-1`): held until it does.
        case waiting(for: String, reason: String)
        /// A disruption: every open order it names is told, in chunks, later.
        case disruption
        /// `tidings forget`: the customer's models, timers, contexts and addresses go.
        case forgotten(customer: String)
    }

    public var outcome: Outcome = .applied
    /// The models the event changed, to be written.
    public var customer: Customer?
    public var order: Order?
    public var ticket: Ticket?
    /// The order a ticket is about, as it stands (read, not changed).
    public var relatedOrder: Order?
    public var intents: [NotificationIntent] = []
    public var timers: [TimerAction] = []
    /// The order or ticket this event brought into being: the events waiting for it apply now.
    public var created: String?
    /// A customer event: the messages parked for this customer can be routed now.
    public var customerKnown: Customer?
    /// A delivery receipt: the store moves its message on (`OutboxStateMachine.receive`).
    public var receipt: Receipt?

    public init(outcome: Outcome = .applied) {
        self.outcome = outcome
    }
}

/// The pipeline's rules in one place: an event and the models it touches in, what changes out.
/// Reducers fold the event into the models, the workflow engine decides the messages, the
/// deadline rules the timers. Pure; the store does the reading and writing around it.
public struct Projector: Sendable {
    public let engine: WorkflowEngine

    public init(engine: WorkflowEngine) {
        self.engine = engine
    }

    /// `now` decides quiet hours only.
    public func project(_ stored: StoredEvent, models: inout some ModelLookup, now: Date) throws -> Projection {
        let event = stored.event
        try Self.checkIDs(of: event)
        if event.type == Deadlines.disruption { return Projection(outcome: .disruption) }
        if event.type == PersonalData.forgottenType, let customer = event.subject {
            return Projection(outcome: .forgotten(customer: customer))
        }
        if let missing = try missingEntity(of: stored, in: &models) {
            return Projection(outcome: .waiting(for: missing.entity, reason: missing.reason))
        }
        var projection = Projection()
        var affected = (customer: Customer?.none, order: Order?.none, ticket: Ticket?.none)
        if let receipt = Receipt(event) {
            // A receipt moves its message on (the store's part) and may close an address.
            projection.receipt = receipt
            if let customer = try models.customer(receipt.customerID) {
                affected.customer = Reducers.customer(customer, stored)
                if affected.customer != customer { projection.customer = affected.customer }
            }
        } else if let subject = event.subject {
            if event.type.hasPrefix("customer.") {
                affected.customer = Reducers.customer(try models.customer(subject), stored)
                projection.customer = affected.customer
                projection.customerKnown = affected.customer
            } else if event.type.hasPrefix("order.") {
                affected.order = Reducers.order(try models.order(subject), stored, promises: engine.promises)
                projection.order = affected.order
                if let order = affected.order { affected.customer = try models.customer(order.customerID) }
            } else if event.type.hasPrefix("ticket.") {
                affected.ticket = Reducers.ticket(try models.ticket(subject), stored, promises: engine.promises)
                projection.ticket = affected.ticket
                if let ticket = affected.ticket {
                    affected.customer = try models.customer(ticket.customerID)
                    if let orderID = ticket.orderID { affected.order = try models.order(orderID) }
                    projection.relatedOrder = affected.order
                }
            }
        }
        projection.intents = engine.intents(for: stored, customer: affected.customer, order: affected.order, ticket: affected.ticket, now: now)
        projection.timers = Deadlines.actions(for: stored, order: affected.order, ticket: affected.ticket)
        projection.created = Self.createdEntity(by: stored, order: projection.order, ticket: projection.ticket)
        return projection
    }

    /// A disruption told to the orders it affects of one customer (in id order): each order
    /// records the alert (or that it may be redundant) and its delivery deadline moves. The
    /// orders whose customer was not told about a delay lately share one message naming them all
    /// (scope: `DisruptionScope.groupSubject`); one such order alone is told about as it always
    /// was (scope: its id), and so is each order whose alert may be redundant, so the outbox's
    /// rule still holds it back. Empty when none is on its way any more.
    public func projectDisruption(_ stored: StoredEvent, to group: [Order], customer: Customer?, now: Date) -> [Projection] {
        var projections: [Projection] = []
        var fresh: [Int] = []
        for order in group where order.status.isUndelivered {
            var projection = Projection()
            let updated = Reducers.disruption(order, stored, promises: engine.promises)
            projection.order = updated
            projection.timers = Deadlines.actions(for: stored, order: updated, ticket: nil)
            if updated.delayNoticeHeld == true {
                projection.intents = engine.intents(for: stored, customer: customer, order: updated, ticket: nil, now: now, scope: updated.id)
            } else {
                fresh.append(projections.count)
            }
            projections.append(projection)
        }
        let together = fresh.compactMap { projections[$0].order }
        if let first = together.first, let index = fresh.first {
            projections[index].intents = together.count == 1
                ? engine.intents(for: stored, customer: customer, order: first, ticket: nil, now: now, scope: first.id)
                : engine.intents(for: stored, customer: customer, order: first, ticket: nil, now: now,
                                 scope: DisruptionScope.groupSubject(customerID: first.customerID), group: together)
        }
        return projections
    }

    /// The ids an event names become keys in the store: one with a control character (only an
    /// older log can hold one) is refused rather than stored under a shorter id.
    static func checkIDs(of event: CloudEvent) throws {
        let named = [("subject", event.subject), ("data.customer_id", event.data["customer_id"]?.stringValue),
                     ("data.order_id", event.data["order_id"]?.stringValue)]
        for case let (field, id?) in named where EventValidator.hasControl(id) {
            throw ProjectionError(.unstorableID, """
                the event \(event.id) has a control character in its \(field), which the store cannot keep as an id: \
                send it again without one
                """)
        }
    }

    /// An order or ticket event whose order or ticket does not exist yet (another producer's
    /// `order.placed` may come later): it waits rather than being dropped.
    func missingEntity(of stored: StoredEvent, in models: inout some ModelLookup) throws -> (entity: String, reason: String)? {
        let type = stored.event.type
        guard let subject = stored.event.subject, !Deadlines.types.contains(type), let entity = EventCatalogue.schema(for: type)?.entity
        else { return nil }
        switch entity {
        case "order" where type != "order.placed":
            guard try models.order(subject) == nil else { return nil }
            return ("order:\(subject)", "order \(subject) is not known yet: waiting for its order.placed")
        case "ticket" where type != "ticket.opened":
            guard try models.ticket(subject) == nil else { return nil }
            return ("ticket:\(subject)", "ticket \(subject) is not known yet: waiting for its ticket.opened")
        default:
            return nil
        }
    }

    /// The order or ticket an event brought into being, if it did.
    static func createdEntity(by stored: StoredEvent, order: Order?, ticket: Ticket?) -> String? {
        switch stored.event.type {
        case "order.placed":
            guard let order, order.timeline.first?.position == stored.position else { return nil }
            return "order:\(order.id)"
        case "ticket.opened":
            guard let ticket, ticket.timeline.first?.position == stored.position else { return nil }
            return "ticket:\(ticket.id)"
        default:
            return nil
        }
    }
}
