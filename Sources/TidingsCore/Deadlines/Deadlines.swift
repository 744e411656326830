import Foundation

/// The deadline rules: which events start and stop which timers, and whether a deadline event
/// still matters when the pipeline reaches it. Pure, so a replay of the log decides the same.
public enum Deadlines {
    /// The CloudEvents `source` of every event the clock appends.
    public static let source = "urn:tidings:clock"
    /// Sources that only the daemon writes (`source` among them); ingest refuses them.
    public static let reservedSourcePrefix = "urn:tidings:"

    public static let dispatchOverdue = "order.dispatch_overdue"
    public static let deliveryOverdue = "order.delivery_overdue"
    public static let responseOverdue = "ticket.response_overdue"
    public static let resolutionDueSoon = "ticket.resolution_due_soon"
    public static let resolutionOverdue = "ticket.resolution_overdue"
    public static let disruption = "shipping.disruption_announced"

    public static let types: Set<String> = [dispatchOverdue, deliveryOverdue, responseOverdue, resolutionDueSoon, resolutionOverdue]

    /// Events that tell a customer their order is late without the shop having said so; a
    /// customer told about a delay recently is not told again.
    public static let proactiveDelayTypes: Set<String> = [dispatchOverdue, deliveryOverdue, disruption]
    /// Every event whose message tells a customer that an order is late: the proactive ones
    /// and the shop's own `order.delayed`.
    public static let delayNoticeTypes: Set<String> = proactiveDelayTypes.union(["order.delayed"])

    /// The timers an event starts or stops. `order` and `ticket` are the models after the event.
    public static func actions(for stored: StoredEvent, order: Order?, ticket: Ticket?) -> [TimerAction] {
        let type = stored.event.type
        if types.contains(type), let subject = stored.event.subject {
            // A deadline event consumes its own timer (on a replay, the one the opening event
            // scheduled again), not one a new estimate moved later.
            return [.cancel(type: type, subject: subject, dueAt: stored.event.time)]
        }
        if let order, type.hasPrefix("order.") || type == disruption {
            return orderActions(type, order: order, stored: stored)
        }
        if let ticket, type.hasPrefix("ticket.") {
            return ticketActions(type, ticket: ticket, stored: stored)
        }
        return []
    }

    static func orderActions(_ type: String, order: Order, stored: StoredEvent) -> [TimerAction] {
        let id = order.id
        switch type {
        case "order.placed":
            // Only the event that placed it: a repeated order.placed changes nothing.
            guard order.timeline.first?.position == stored.position else { return [] }
            return running(order).map(TimerAction.schedule)
        case "order.shipped", "order.out_for_delivery":
            return [.cancel(type: dispatchOverdue, subject: id)]
        case "order.delayed", disruption:
            // A new estimate moved the delivery promise: its deadline moves with it.
            guard order.status.isUndelivered, let deliverBy = order.deliverBy else { return [] }
            return [.schedule(DeadlineTimer(type: deliveryOverdue, subject: id, dueAt: deliverBy))]
        case "order.delivered", "order.cancelled", "order.return_requested", "order.refunded":
            guard order.status.isClosed else { return [] }
            return [.cancel(type: dispatchOverdue, subject: id), .cancel(type: deliveryOverdue, subject: id)]
        default:
            return []
        }
    }

    static func ticketActions(_ type: String, ticket: Ticket, stored: StoredEvent) -> [TimerAction] {
        let id = ticket.id
        switch type {
        case "ticket.opened":
            guard ticket.timeline.first?.position == stored.position else { return [] }
            return running(ticket).map(TimerAction.schedule)
        case "ticket.replied":
            return [.cancel(type: responseOverdue, subject: id)]
        case "ticket.resolved":
            return [responseOverdue, resolutionDueSoon, resolutionOverdue].map { .cancel(type: $0, subject: id) }
        case "ticket.reopened":
            // The promise still stands: its deadlines come back (one that already fired does
            // not fire again, because its event id is the same).
            return running(ticket).map(TimerAction.schedule)
        default:
            return []
        }
    }

    /// The timers an order in this state keeps running: its ship-by until it leaves, its
    /// deliver-by until it arrives.
    public static func running(_ order: Order) -> [DeadlineTimer] {
        var timers: [DeadlineTimer] = []
        if let shipBy = order.shipBy, order.status == .placed || order.status == .delayed {
            timers.append(DeadlineTimer(type: dispatchOverdue, subject: order.id, dueAt: shipBy))
        }
        if let deliverBy = order.deliverBy, order.status.isUndelivered {
            timers.append(DeadlineTimer(type: deliveryOverdue, subject: order.id, dueAt: deliverBy))
        }
        return timers
    }

    /// The timers a ticket in this state keeps running: the first response until the reply,
    /// and the resolution deadlines until it is resolved.
    public static func running(_ ticket: Ticket) -> [DeadlineTimer] {
        guard ticket.status != .resolved else { return [] }
        var timers: [DeadlineTimer] = []
        if ticket.firstResponseAt == nil {
            timers.append(DeadlineTimer(type: responseOverdue, subject: ticket.id, dueAt: ticket.firstResponseDue))
        }
        timers.append(DeadlineTimer(type: resolutionOverdue, subject: ticket.id, dueAt: ticket.resolutionDue))
        if let soon = ticket.resolutionDueSoon {
            timers.append(DeadlineTimer(type: resolutionDueSoon, subject: ticket.id, dueAt: soon))
        }
        return timers
    }

    /// Whether a deadline event still matters: a dispatch deadline after the parcel left, a
    /// delivery deadline a new estimate moved past `dueAt` (the event's time), or a response
    /// deadline after the reply, is recorded and otherwise ignored. Other events always matter.
    public static func isLive(_ type: String, dueAt: Date?, order: Order?, ticket: Ticket?) -> Bool {
        switch type {
        case dispatchOverdue: return order.map { $0.status == .placed || $0.status == .delayed } ?? false
        case deliveryOverdue:
            guard let order, order.status.isUndelivered else { return false }
            if let dueAt, let deliverBy = order.deliverBy, deliverBy > dueAt { return false }
            return true
        case responseOverdue: return ticket.map { $0.firstResponseAt == nil && $0.status != .resolved } ?? false
        case resolutionDueSoon, resolutionOverdue: return ticket.map { $0.status != .resolved } ?? false
        default: return true
        }
    }
}
