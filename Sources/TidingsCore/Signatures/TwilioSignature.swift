import Crypto
import Foundation

/// Twilio's `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the account's auth token,
/// over the full URL Twilio requested followed by every POST parameter's name and value,
/// sorted by name (and, for a repeated name, by value; a pair sent twice counts once, as in
/// Twilio's own validators).
public enum TwilioSignature {
    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        var content = url
        var seen: Set<[String]> = []
        for (name, value) in parameters.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) where seen.insert([name, value]).inserted {
            content += name + value
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Compared in constant time.
    public static func verify(_ signature: String, url: String, parameters: [(String, String)], authToken: String) -> Bool {
        guard let presented = Data(base64Encoded: signature) else { return false }
        let expected = Data(base64Encoded: compute(url: url, parameters: parameters, authToken: authToken)) ?? Data()
        return presented.count == expected.count && zip(presented, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
