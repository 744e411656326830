import Crypto
import Foundation

/// Message-IDs only this Tidings can make: `<key.tag@domain>`, the tag an HMAC-SHA256 of the
/// message key under `receipts.secret`. A bounce report returns the Message-ID, so one that
/// verifies names a message the reporter really saw; without the secret, anyone who could mail
/// the bounce mailbox and guess a key (they are derived from event ids) could close an address.
public struct MessageIDSigner: Sendable {
    let keys: [SymmetricKey]

    /// Signs with the first secret and verifies with any, so a secret can be rotated. Nil
    /// without one: Message-IDs are then the bare key, as before.
    public init?(secrets: [WebhookSignature.Secret]) {
        guard !secrets.isEmpty else { return nil }
        keys = secrets.map(\.key)
    }

    /// The Message-ID's left-hand side for a message key.
    public func leftPart(for messageKey: String) -> String {
        "\(messageKey).\(Self.tag(messageKey, keys[0]))"
    }

    /// The message key a left-hand side names, when its tag verifies; nil for a forged or
    /// untagged one.
    public func messageKey(from leftPart: String) -> String? {
        guard let dot = leftPart.lastIndex(of: ".") else { return nil }
        let key = String(leftPart[..<dot]), tag = leftPart[leftPart.index(after: dot)...]
        return keys.contains { Self.tag(key, $0).utf8.elementsEqual(tag.utf8) } ? key : nil
    }

    /// 64 bits of the HMAC, in hex: enough that guessing one is hopeless, short enough for a header.
    static func tag(_ messageKey: String, _ key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(messageKey.utf8), using: key).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
