import Foundation

/// A support ticket and the promises made about it.
public struct Ticket: Codable, Sendable, Hashable {
    public var id: String
    public var customerID: String
    public var kind: String
    public var status: Status
    public var summary: String?
    public var orderID: String?
    public var channel: String?
    public var openedAt: Date
    public var firstResponseAt: Date?
    public var resolvedAt: Date?
    public var firstResponseDue: Date
    public var resolutionDue: Date
    /// When to tell the customer that more time is needed (optional: older rows lack it).
    public var resolutionDueSoon: Date?
    public var timeline: [TimelineEntry] = []

    public enum Status: String, Codable, Sendable, Hashable {
        case open, answered, escalated, resolved
    }

    /// A human-friendly reference for the customer to quote.
    public var reference: String { id.uppercased() }
}

