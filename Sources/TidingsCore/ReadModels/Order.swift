import Foundation

/// An order as its events describe it: what was bought, where it is, and what happened when.
public struct Order: Codable, Sendable, Hashable {
    public var id: String
    public var customerID: String
    public var status: Status
    public var items: [Item]
    public var total: Double
    public var currency: String
    public var placedAt: Date
    public var shipBy: Date?
    public var deliverBy: Date?
    public var shipping: Shipping?
    public var tracking: Tracking?
    public var outOfStock: [String] = []
    public var timeline: [TimelineEntry] = []
    /// When the customer was last told, or due to be told, that the order is late.
    public var delayNoticeAt: Date?
    /// Whether the latest proactive delay alert is held back because the customer was told
    /// about a delay within the window (optional: rows written before it existed lack it).
    public var delayNoticeHeld: Bool?
    /// The log position of the event behind `delayNoticeAt` (optional: older rows lack it).
    public var delayNoticePosition: Int64?

    /// The carrier handling it: the one that took the parcel, else the one planned.
    public var carrier: String? { tracking?.carrier ?? shipping?.carrier }

    public enum Status: String, Codable, Sendable, Hashable {
        case placed, delayed, shipped, outForDelivery = "out_for_delivery", delivered, cancelled
        case returnRequested = "return_requested", refunded

        /// Still on its way to the customer: a delay, or a disruption, can still affect it. The
        /// one definition; the store's queries and partial indexes are built from it.
        public static let undelivered: [Status] = [.placed, .delayed, .shipped, .outForDelivery]

        public var isUndelivered: Bool { Self.undelivered.contains(self) }
        /// Nothing more will be shipped or delivered.
        public var isClosed: Bool { [.delivered, .cancelled, .returnRequested, .refunded].contains(self) }
    }

    public struct Item: Codable, Sendable, Hashable {
        public var sku: String
        public var name: String
        public var quantity: Double
        public var unitPrice: Double
    }

    public struct Shipping: Codable, Sendable, Hashable {
        public var region: String?
        public var postcode: String?
        public var carrier: String?
    }

    public struct Tracking: Codable, Sendable, Hashable {
        public var carrier: String?
        public var number: String?
        public var url: String?
        public var estimatedDelivery: String?
    }
}

/// One line of an order's or ticket's history.
public struct TimelineEntry: Codable, Sendable, Hashable {
    public var at: Date
    public var type: String
    public var position: Int64
    public var note: String?
}
