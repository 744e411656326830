import Foundation

/// What became of a message after its server accepted it, as a provider reports it (a Twilio
/// status callback, a Messenger delivery webhook, a bounce, a signed receipt). Receipts are
/// events in the log (`message.delivered`, …, subject the message key), written by Tidings'
/// receipt endpoints only, so a rebuild reaches the same suppressions and states.
public struct Receipt: Sendable, Hashable {
    public enum Status: String, Sendable, CaseIterable {
        /// It reached the customer's phone, inbox or app.
        case delivered
        /// It did not: a hard bounce suppresses the address, a soft one is tried again.
        case bounced
        /// The customer reported it as spam: it arrived, and that channel is closed to them.
        case complained
        /// The provider gave up on it for a reason that is not the address's (a carrier filter,
        /// a blocked sender): it did not arrive, the address stays usable.
        case failed
    }

    public enum Kind: String, Sendable {
        /// The address does not exist or never will take mail: suppressed.
        case hard
        /// A full mailbox, a phone out of reach: worth trying again later.
        case soft
    }

    /// The message's idempotency key.
    public var key: String
    public var status: Status
    public var kind: Kind?
    /// The channel the receipt is about: a receipt for an earlier route is history only.
    public var channel: Channel
    /// The address the provider reports on (it must still be the customer's to suppress it).
    public var address: String?
    public var customerID: String
    /// What the provider said (an SMTP status and diagnostic, a Twilio error code).
    public var reason: String?
    /// Who reported it: `twilio`, `messenger`, `dsn`, `generic`.
    public var provider: String

    public init(key: String, status: Status, kind: Kind? = nil, channel: Channel, address: String?, customerID: String, reason: String?,
                provider: String) {
        self.key = key
        self.status = status
        self.kind = status == .bounced ? (kind ?? .hard) : nil
        self.channel = channel
        self.address = address
        self.customerID = customerID
        self.reason = reason
        self.provider = provider
    }

    /// `message.<status>`.
    public static let typePrefix = "message."
    public static let types: Set<String> = Set(Status.allCases.map { typePrefix + $0.rawValue })
    /// The source of the receipts Tidings records, per provider (`urn:tidings:receipts:twilio`).
    public static let sourcePrefix = "urn:tidings:receipts:"

    /// Whether this receipt closes the address for the customer: a hard bounce or a complaint.
    public var suppresses: Bool { status == .complained || (status == .bounced && kind == .hard) }

    /// The event a receipt endpoint records. Its id is derived from what the provider reported,
    /// so a provider's retry of the same callback is stored once.
    public func event(id: String, at time: Date) -> CloudEvent {
        var data: JSONObject = [
            "customer_id": .string(customerID), "channel": .string(channel.rawValue), "provider": .string(provider),
        ]
        if let kind { data["kind"] = .string(kind.rawValue) }
        if let address { data["address"] = .string(address) }
        if let reason { data["reason"] = .string(String(reason.prefix(500))) }
        return CloudEvent(id: id, source: Self.sourcePrefix + provider, type: Self.typePrefix + status.rawValue, subject: key, time: time,
                          data: .object(data))
    }

    /// A receipt read back from the log; nil for any other event.
    public init?(_ event: CloudEvent) {
        guard event.type.hasPrefix(Self.typePrefix), let status = Status(rawValue: String(event.type.dropFirst(Self.typePrefix.count))),
              let key = event.subject, let channel = event.data["channel"]?.stringValue.flatMap(Channel.init(rawValue:)),
              let customerID = event.data["customer_id"]?.stringValue
        else { return nil }
        self.init(key: key, status: status, kind: event.data["kind"]?.stringValue.flatMap(Kind.init(rawValue:)), channel: channel,
                  address: event.data["address"]?.stringValue, customerID: customerID, reason: event.data["reason"]?.stringValue,
                  provider: event.data["provider"]?.stringValue ?? "")
    }

    /// What the message's history says about it.
    public var summary: String {
        var text = status.rawValue
        if let kind { text += " (\(kind.rawValue))" }
        if !provider.isEmpty { text += " by \(provider)" }
        if let reason, !reason.isEmpty { text += ": \(reason)" }
        return text
    }
}
