import Crypto
import Foundation

/// Meta's `X-Hub-Signature-256: sha256=<hex>`: HMAC-SHA256 of the raw body, keyed with the
/// app secret (Messenger webhooks).
public enum HubSignature {
    public static func compute(body: some DataProtocol, appSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(appSecret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    public static func verify(_ header: String, body: some DataProtocol, appSecret: String) -> Bool {
        guard header.lowercased().hasPrefix("sha256="), let presented = hexBytes(header.dropFirst(7)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(presented, authenticating: Data(body), using: SymmetricKey(data: Data(appSecret.utf8)))
    }

    static func hexBytes(_ text: Substring) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = Data()
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
