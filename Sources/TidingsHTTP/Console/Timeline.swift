import Foundation
import TidingsCore

/// What happened and what was said, in one list in time order: the events (from the orders'
/// and tickets' timelines, and a customer's own registration) and every message, whatever
/// became of it. For a customer, or for one order or ticket.
struct Timeline {
    enum Item {
        /// An event about the customer, their order or ticket.
        case event(type: String, subject: String, note: String?)
        case message(MessageSummary)
    }

    struct Entry {
        var at: Date
        var item: Item
    }

    let entries: [Entry]

    init(customer: Customer?, orders: [Order], tickets: [Ticket], messages: [MessageSummary]) {
        var entries: [Entry] = []
        if let customer, let at = customer.registeredAt { entries.append(Entry(at: at, item: .event(type: "customer.registered", subject: customer.id, note: nil))) }
        if let customer, let at = customer.updatedAt, at != customer.registeredAt {
            entries.append(Entry(at: at, item: .event(type: "customer.updated (latest)", subject: customer.id, note: nil)))
        }
        for order in orders {
            entries += order.timeline.map { Entry(at: $0.at, item: .event(type: $0.type, subject: order.id, note: $0.note)) }
        }
        for ticket in tickets {
            entries += ticket.timeline.map { Entry(at: $0.at, item: .event(type: $0.type, subject: ticket.reference, note: $0.note)) }
        }
        entries += messages.map { Entry(at: $0.createdAt, item: .message($0)) }
        // Stable: an event comes before the messages it caused, recorded in the same instant.
        self.entries = entries.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}
