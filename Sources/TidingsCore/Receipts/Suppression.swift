import Foundation

/// An address that must not be used again: it hard-bounced, or the customer reported a message
/// to it as spam. Kept on the customer (their read model), so it is rebuilt from the log like
/// everything else; a new address on that channel is not suppressed.
public struct Suppression: Codable, Sendable, Hashable {
    public enum Reason: String, Codable, Sendable, CaseIterable {
        case bounced, complained
    }

    public var channel: Channel
    public var address: String
    public var reason: Reason
    /// What the provider said, as the receipt carried it.
    public var detail: String?
    public var since: Date
    /// The message whose receipt suppressed it.
    public var key: String?

    public init(channel: Channel, address: String, reason: Reason, detail: String?, since: Date, key: String?) {
        self.channel = channel
        self.address = address
        self.reason = reason
        self.detail = detail
        self.since = since
        self.key = key
    }

    /// Recorded by `tidings suppressions remove` or `DELETE /v1/suppressions/…` (subject: the
    /// customer; `data.channel`, `data.address`): the address may be used again.
    public static let liftedType = "customer.suppression_lifted"
    public static let liftedSource = "urn:tidings:suppressions"

    public static func lifted(customerID: String, channel: Channel, address: String, id: String, at time: Date) -> CloudEvent {
        CloudEvent(id: id, source: liftedSource, type: liftedType, subject: customerID, time: time,
                   data: ["channel": .string(channel.rawValue), "address": .string(address)])
    }

    /// What a message's history says when a channel is passed over for it.
    public var note: String {
        "\(channel.rawValue): address suppressed (\(reason.rawValue) \(Timestamp.format(since)))"
    }
}

extension Customer {
    /// The suppression of the customer's current address on a channel, if it is suppressed.
    public func suppression(on channel: Channel) -> Suppression? {
        guard let address = address(on: channel) else { return nil }
        return suppressed.first { $0.channel == channel && Self.sameAddress($0.address, address, on: channel) }
    }

    /// Email addresses compare without regard to case (their domains always do, and no mail
    /// system we send through tells local parts apart by case); numbers and ids as written.
    public static func sameAddress(_ a: String, _ b: String, on channel: Channel) -> Bool {
        channel == .email ? a.lowercased() == b.lowercased() : a == b
    }

    /// Applies a receipt: a hard bounce or a complaint about the customer's current address
    /// suppresses it (once); a complaint also withdraws consent where a channel needs it.
    /// A receipt about an address the customer no longer has changes nothing.
    mutating func apply(_ receipt: Receipt, at time: Date) {
        guard receipt.suppresses, let current = address(on: receipt.channel),
              receipt.address.map({ Self.sameAddress($0, current, on: receipt.channel) }) ?? true
        else { return }
        if receipt.status == .complained, receipt.channel.needsConsent { preferences.consent.remove(receipt.channel) }
        guard suppression(on: receipt.channel) == nil else { return }
        suppressed.append(Suppression(channel: receipt.channel, address: current, reason: receipt.status == .complained ? .complained : .bounced,
                                      detail: receipt.reason.map { String($0.prefix(200)) }, since: time, key: receipt.key))
        updatedAt = time
    }

    /// Lifts the suppressions of an address on a channel.
    mutating func lift(channel: Channel, address: String, at time: Date) {
        let before = suppressed.count
        suppressed.removeAll { $0.channel == channel && Self.sameAddress($0.address, address, on: channel) }
        if suppressed.count != before { updatedAt = time }
    }
}
