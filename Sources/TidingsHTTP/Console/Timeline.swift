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

    /// One page of a long history: its messages, and the events from the oldest of them (none
    /// older: from the start) up to the first message of the next page (none: to now).
    struct Page {
        var messages: [MessageSummary]
        var from: Date?
        var until: Date?
        /// The `before` that shows the page of older messages, if there are any.
        var earlier: Int64?
        /// Whether this is an older page, with newer messages after it.
        var later: Bool
    }

    let entries: [Entry]

    init(customer: Customer?, orders: [Order], tickets: [Ticket], page: Page) {
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
        // The events of the page's stretch of time only.
        entries = entries.filter { entry in (page.from.map { entry.at >= $0 } ?? true) && (page.until.map { entry.at < $0 } ?? true) }
        entries += page.messages.map { Entry(at: $0.createdAt, item: .message($0)) }
        // Stable: an event comes before the messages it caused, recorded in the same instant.
        self.entries = entries.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}
