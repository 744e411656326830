import Foundation

/// A customer's contact details and preferences, as the customer events describe them.
public struct Customer: Codable, Sendable, Hashable {
    public var id: String
    public var name: String?
    /// How the customer's names are used: `greetingName` ("Liam") as they like to be greeted,
    /// else `givenName`; `name` ("O'Brien, Liam") is never cut into pieces.
    public var givenName: String?
    public var familyName: String?
    public var greetingName: String?
    public var email: String?
    public var phone: String?
    public var messengerID: String?
    public var locale: String?
    public var timezone: String?
    public var preferences: Preferences
    public var registeredAt: Date?
    public var updatedAt: Date?
    /// Addresses closed by a hard bounce or a complaint (`Suppression`).
    public var suppressed: [Suppression] = []

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
        case .staff: return nil
        }
    }

    /// The name to greet them by: the one they gave for it, else their given name, else their
    /// full name as written. Never a fragment: "O'Brien, Liam" split at a space is "O'Brien,".
    public var greeting: String? {
        for candidate in [greetingName, givenName, name] {
            guard let candidate, let first = candidate.unicodeScalars.first, let last = candidate.unicodeScalars.last else { continue }
            if !first.properties.isWhitespace && !last.properties.isWhitespace { return candidate }
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { return trimmed }
        }
        return nil
    }
}

/// The channels messages go out on: three that reach customers, and `staff`, the shop's own
/// team (an internal webhook such as a team chat).
public enum Channel: String, Codable, Sendable, Hashable, CaseIterable {
    case email, sms, messenger, staff

    /// The channels a customer can choose, consent to and be reached on.
    public static let customerChannels: [Channel] = [.email, .sms, .messenger]

    /// A channel a customer named in their preferences; `staff` is not one.
    public init?(customerChoice name: String) {
        guard let channel = Channel(rawValue: name), channel != .staff else { return nil }
        self = channel
    }

    /// SMS and messenger need recorded consent; email does not.
    public var needsConsent: Bool { self == .sms || self == .messenger }
}
