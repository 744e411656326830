import Foundation

/// A customer's contact details and preferences, as the customer events describe them.
public struct Customer: Codable, Sendable, Hashable {
    public var id: String
    public var name: String?
    public var email: String?
    public var phone: String?
    public var messengerID: String?
    public var locale: String?
    public var timezone: String?
    public var preferences: Preferences
    public var registeredAt: Date?
    public var updatedAt: Date?

    public init(id: String) {
        self.id = id
        self.preferences = Preferences()
    }

    /// The customer's own choices about how, and whether, to be contacted.
    public struct Preferences: Codable, Sendable, Hashable {
        /// Channels in the customer's order of preference.
        public var channels: [Channel] = []
        /// Channels the customer has consented to (email needs none).
        public var consent: Set<Channel> = []
        public var quietHours: QuietHours?
        public var optOut: Set<String> = []

        public init() {}
    }

    public struct QuietHours: Codable, Sendable, Hashable {
        public var start: String
        public var end: String
    }

    /// The address to use on a channel, if the customer has one.
    public func address(on channel: Channel) -> String? {
        switch channel {
        case .email: return email
        case .sms: return phone
        case .messenger: return messengerID
        }
    }

    public var firstName: String? {
        name?.split(separator: " ").first.map(String.init)
    }
}

/// The customer-facing channels a workflow can choose from.
public enum Channel: String, Codable, Sendable, Hashable, CaseIterable {
    case email, sms, messenger

    /// SMS and messenger need recorded consent; email does not.
    public var needsConsent: Bool { self != .email }
}
