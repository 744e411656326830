import Crypto
import Foundation

/// Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
/// `<webhook-id>.<webhook-timestamp>.<body>`, one `v1,` entry per secret so receivers keep
/// verifying while a secret is rotated.
public enum WebhookSignature {
    /// A `whsec_<base64>` signing secret. Its description never shows the key.
    public struct Secret: Sendable, CustomStringConvertible {
        let key: SymmetricKey
        /// HMAC keyed once: deriving its pads from the key per message was half of signing.
        let keyed: HMAC<SHA256>

        /// Parses `whsec_<base64>` (the prefix is optional, as in the reference libraries).
        public init?(_ text: String) {
            let encoded = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
            guard let bytes = Data(base64Encoded: encoded), bytes.count >= 16, bytes.count <= 64 else { return nil }
            key = SymmetricKey(data: bytes)
            keyed = HMAC<SHA256>(key: key)
        }

        public var description: String { "whsec_…" }
    }

    /// Whether a received webhook carries a `v1,` signature that one of the secrets made, and
    /// its timestamp is within `tolerance` of now (a replayed old request is refused).
    public static func verify(id: String, timestamp: String, signatures: String, body: some DataProtocol, secrets: [Secret], now: Date,
                              tolerance: TimeInterval = 300) -> Bool {
        guard let seconds = Int(timestamp), abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return false }
        var content = Data("\(id).\(seconds).".utf8)
        content.append(contentsOf: body)
        let presented = signatures.split(separator: " ").compactMap { entry -> Data? in
            guard entry.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(entry.dropFirst(3)))
        }
        return secrets.contains { secret in
            presented.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: content, using: secret.key) }
        }
    }

    /// The header value for a message: space-separated `v1,<signature>` entries.
    public static func sign(id: String, timestamp: Int, body: some DataProtocol, secrets: [Secret]) -> String {
        let prefix = Array("\(id).\(timestamp).".utf8)
        return secrets.map { secret in
            var mac = secret.keyed
            mac.update(data: prefix)
            mac.update(data: body)
            return "v1," + Data(mac.finalize()).base64EncodedString()
        }.joined(separator: " ")
    }
}
