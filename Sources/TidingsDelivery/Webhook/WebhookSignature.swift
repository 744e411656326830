import Crypto
import Foundation

/// Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
/// `<webhook-id>.<webhook-timestamp>.<body>`, one `v1,` entry per secret so receivers keep
/// verifying while a secret is rotated.
public enum WebhookSignature {
    /// A `whsec_<base64>` signing secret. Its description never shows the key.
    public struct Secret: Sendable, CustomStringConvertible {
        let key: SymmetricKey

        /// Parses `whsec_<base64>` (the prefix is optional, as in the reference libraries).
        public init?(_ text: String) {
            let encoded = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
            guard let bytes = Data(base64Encoded: encoded), bytes.count >= 16, bytes.count <= 64 else { return nil }
            key = SymmetricKey(data: bytes)
        }

        public var description: String { "whsec_…" }
    }

    /// The header value for a message: space-separated `v1,<signature>` entries.
    public static func sign(id: String, timestamp: Int, body: some DataProtocol, secrets: [Secret]) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return secrets.map { secret in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: secret.key)).base64EncodedString()
        }.joined(separator: " ")
    }
}
