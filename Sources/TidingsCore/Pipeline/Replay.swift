import Foundation

/// The pipeline's rules run over the log in memory: the read models and timers it leaves, and
/// the intents it decides, with no database and no outbox. `tidings rebuild` writes the models
/// and timers into fresh tables; a dry run compares the intents with what was sent.
///
/// It meets events as the pipeline does: one about an order or ticket not known yet waits for
/// it and applies when it comes; a disruption reaches every affected order at its place in the
/// log (the pipeline tells them in chunks, but each order meets it before its later events, so
/// the result is the same). What the pipeline quarantined for failing is passed over (`skipping`).
public struct Replay: ModelLookup {
    /// A running deadline timer, as the timers table holds it.
    public struct Timer: Sendable, Hashable {
        public var dueAt: Double
        public var scheduledBy: Int64
    }

    /// Where a timer lives: one per deadline type and subject.
    public struct TimerSlot: Sendable, Hashable {
        public var type: String
        public var subject: String
    }

    /// A model and the log position it was last written at (the tables' `position`).
    public struct Stamped<Model: Sendable>: Sendable {
        public var model: Model
        public var position: Int64
    }

    public let projector: Projector
    /// Events (or one order of a disruption) the pipeline quarantined because they failed.
    public var skipping: Set<HeldEvent.Key>
    public private(set) var customers: [String: Stamped<Customer>] = [:]
    public private(set) var orders: [String: Stamped<Order>] = [:]
    public private(set) var tickets: [String: Stamped<Ticket>] = [:]
    public private(set) var timers: [TimerSlot: Timer] = [:]
    /// Events about an order or ticket not known yet, by entity (`order:o-1`), in log order.
    public private(set) var waiting: [String: [StoredEvent]] = [:]
    /// Messages waiting for their customer to be known, by customer id, in log order: routed
    /// when the customer's event applies, as the pipeline routes parked messages.
    public private(set) var parked: [String: [Parked]] = [:]
    /// The positions of the events whose delay notices went out, by order: a proactive delay
    /// alert is redundant after one (the outbox's rule, assuming every decided message is sent).
    var toldAboutDelay: [String: [Int64]] = [:]
    let delayNoticeWorkflows: Set<String>
    /// What changed since `takeChanges()`: ids per table, timer slots.
    public private(set) var changes = Changes()
    /// Events applied (a waiting one counts once it applies).
    public private(set) var applied = 0

    public struct Parked: Sendable, Hashable {
        public var message: ParkedMessage
        public var category: Workflow.Category
        /// When its event was recorded: the outbox skips it once the park window has run out.
        public var parkedAt: Date
    }

    public struct Changes: Sendable {
        public var customers: Set<String> = []
        public var orders: Set<String> = []
        public var tickets: Set<String> = []
        public var timers: Set<TimerSlot> = []

        public init() {}

        public var isEmpty: Bool { customers.isEmpty && orders.isEmpty && tickets.isEmpty && timers.isEmpty }
    }

    public init(engine: WorkflowEngine, skipping: Set<HeldEvent.Key> = []) {
        projector = Projector(engine: engine)
        self.skipping = skipping
        delayNoticeWorkflows = Set(engine.workflows.delayNoticeWorkflows)
    }

    /// Applies one event in log order. Returns the intents it (and the events it released)
    /// would place; `now` decides quiet hours only.
    @discardableResult
    public mutating func apply(_ stored: StoredEvent, now: Date) throws -> [NotificationIntent] {
        guard !skipping.contains(HeldEvent.Key(position: stored.position)) else { return [] }
        let projector = self.projector
        let projection = try projector.project(stored, models: &self, now: now)
        switch projection.outcome {
        case .disruption:
            return disrupt(stored, now: now)
        case .forgotten(let customer):
            forget(customer)
            return []
        case .waiting(let entity, _):
            waiting[entity, default: []].append(stored)
            return []
        case .applied:
            break
        }
        applied += 1
        put(projection, position: stored.position)
        var intents = park(projection.intents, stored)
        for action in projection.timers { run(action, position: stored.position) }
        if let created = projection.created, let released = waiting.removeValue(forKey: created) {
            for event in released { intents += try apply(event, now: now) }
        }
        if let customer = projection.customerKnown, let waiting = parked.removeValue(forKey: customer.id) {
            // Those whose window ran out before the customer came were skipped by the outbox
            // (as of the events' recording times: the pipeline's clock is not in the log).
            for parked in waiting where stored.recordedAt.timeIntervalSince(parked.parkedAt) <= projector.engine.customerWait {
                let order = parked.message.subjectID.flatMap { orders[$0]?.model }
                let ticket = parked.message.context.value(atPath: "ticket.id")?.stringValue.flatMap { tickets[$0]?.model }
                intents.append(settle(projector.engine.release(parked.message, category: parked.category, customer: customer, order: order,
                                                               ticket: ticket, now: now)))
            }
        }
        return intents
    }

    /// Keeps the intents waiting for their customer aside; settles the others.
    mutating func park(_ intents: [NotificationIntent], _ stored: StoredEvent) -> [NotificationIntent] {
        var placed: [NotificationIntent] = []
        for intent in intents {
            guard intent.awaitingCustomer else {
                placed.append(settle(intent))
                continue
            }
            let message = ParkedMessage(key: intent.key, workflow: intent.workflow, customerID: intent.customerID, subjectID: intent.subjectID,
                                        eventPosition: intent.eventPosition, eventType: stored.event.type, template: intent.template,
                                        context: intent.context.json)
            parked[intent.customerID, default: []].append(Parked(message: message, category: intent.category, parkedAt: stored.recordedAt))
        }
        return placed
    }

    /// The outbox's rule for proactive delay alerts: one is skipped when a delay notice about
    /// the same order, from the event that opened its window or a later one, went out.
    mutating func settle(_ intent: NotificationIntent) -> NotificationIntent {
        var intent = intent
        guard intent.channel != nil, let subject = intent.subjectID else { return intent }
        if let since = intent.redundantIfToldSince, toldAboutDelay[subject, default: []].contains(where: { $0 >= since }) {
            intent.channel = nil
            intent.skipReason = "already told about a delay to this order"
        } else if delayNoticeWorkflows.contains(intent.workflow) {
            // A message about several orders told each of them.
            let covered = DisruptionScope.covered(by: intent.context)
            for told in covered.isEmpty ? [subject] : covered { toldAboutDelay[told, default: []].append(intent.eventPosition) }
        }
        return intent
    }

    /// Hands over what changed since the last call, and starts afresh.
    public mutating func takeChanges() -> Changes {
        defer { changes = Changes() }
        return changes
    }

    /// Every order the disruption affects, a customer's orders together, as the store's fan-out
    /// takes them (`Projector.projectDisruption`).
    mutating func disrupt(_ stored: StoredEvent, now: Date) -> [NotificationIntent] {
        applied += 1
        guard let scope = DisruptionScope(stored.event.data) else { return [] }
        var groups: [String: [Order]] = [:]
        var customerOrder: [String] = []
        for id in orders.keys.sorted() {
            guard let order = orders[id]?.model, scope.affects(order), !skipping.contains(HeldEvent.Key(position: stored.position, order: id))
            else { continue }
            if groups[order.customerID] == nil { customerOrder.append(order.customerID) }
            groups[order.customerID, default: []].append(order)
        }
        var intents: [NotificationIntent] = []
        for customerID in customerOrder {
            for projection in projector.projectDisruption(stored, to: groups[customerID] ?? [], customer: customers[customerID]?.model, now: now) {
                guard let order = projection.order else { continue }
                put(projection, position: max(orders[order.id]?.model.timeline.last?.position ?? 0, stored.position))
                intents += park(projection.intents, stored)
                for action in projection.timers { run(action, position: stored.position) }
            }
        }
        return intents
    }

    /// What forgetting a customer takes from the models, as the store's purge does: the
    /// customer, their orders and tickets, the timers and waits of those, their parked messages.
    mutating func forget(_ customerID: String) {
        applied += 1
        customers[customerID] = nil
        changes.customers.insert(customerID)
        parked[customerID] = nil
        let orderIDs = orders.filter { $0.value.model.customerID == customerID }.keys
        let ticketIDs = tickets.filter { $0.value.model.customerID == customerID }.keys
        for id in orderIDs {
            orders[id] = nil
            changes.orders.insert(id)
            toldAboutDelay[id] = nil
        }
        for id in ticketIDs {
            tickets[id] = nil
            changes.tickets.insert(id)
        }
        let orderSet = Set(orderIDs), ticketSet = Set(ticketIDs)
        for slot in timers.keys where (slot.type.hasPrefix("order.") ? orderSet : ticketSet).contains(slot.subject) {
            timers[slot] = nil
            changes.timers.insert(slot)
        }
    }

    mutating func put(_ projection: Projection, position: Int64) {
        if let customer = projection.customer {
            customers[customer.id] = Stamped(model: customer, position: position)
            changes.customers.insert(customer.id)
        }
        if let order = projection.order {
            orders[order.id] = Stamped(model: order, position: position)
            changes.orders.insert(order.id)
        }
        if let ticket = projection.ticket {
            tickets[ticket.id] = Stamped(model: ticket, position: position)
            changes.tickets.insert(ticket.id)
        }
    }

    /// The timers table's rules: one timer per slot, a new one replaces it, a cancel naming a
    /// due time removes only the timer due then.
    mutating func run(_ action: TimerAction, position: Int64) {
        switch action {
        case .schedule(let timer):
            let slot = TimerSlot(type: timer.type, subject: timer.subject)
            timers[slot] = Timer(dueAt: timer.dueAt.timeIntervalSince1970, scheduledBy: position)
            changes.timers.insert(slot)
        case .cancel(let type, let subject, let dueAt):
            let slot = TimerSlot(type: type, subject: subject)
            guard let running = timers[slot], dueAt.map({ $0.timeIntervalSince1970 == running.dueAt }) ?? true else { return }
            timers[slot] = nil
            changes.timers.insert(slot)
        }
    }

    public mutating func customer(_ id: String) throws -> Customer? { customers[id]?.model }
    public mutating func order(_ id: String) throws -> Order? { orders[id]?.model }
    public mutating func ticket(_ id: String) throws -> Ticket? { tickets[id]?.model }
}
