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
    public var timeline: [TimelineEntry] = []

    public enum Status: String, Codable, Sendable, Hashable {
        case open, answered, escalated, resolved
    }

    /// A human-friendly reference for the customer to quote.
    public var reference: String { id.uppercased() }
}

/// How long the shop promises to take over each kind of ticket (plain hours and days here; the
/// business calendar arrives with the deadlines work).
public struct ServicePromises: Sendable, Hashable {
    public struct Promise: Sendable, Hashable {
        public var firstResponseHours: Int
        public var resolutionDays: Int

        public init(firstResponseHours: Int, resolutionDays: Int) {
            self.firstResponseHours = firstResponseHours
            self.resolutionDays = resolutionDays
        }
    }

    public var byKind: [String: Promise]
    public var fallback: Promise

    public init(byKind: [String: Promise] = [:], fallback: Promise = Promise(firstResponseHours: 24, resolutionDays: 30)) {
        self.byKind = byKind
        self.fallback = fallback
    }

    public static let standard = ServicePromises(byKind: [
        "complaint": Promise(firstResponseHours: 24, resolutionDays: 30),
        "query": Promise(firstResponseHours: 24, resolutionDays: 7),
        "return": Promise(firstResponseHours: 48, resolutionDays: 14),
        "feedback": Promise(firstResponseHours: 72, resolutionDays: 30),
    ])

    public func promise(for kind: String) -> Promise { byKind[kind] ?? fallback }
}
