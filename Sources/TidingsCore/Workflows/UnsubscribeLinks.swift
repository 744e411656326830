import Crypto
import Foundation

/// One-click unsubscribe (RFC 8058) for the categories a customer may opt out of
/// (`Workflow.Category.canOptOut`): an HTTPS link that carries the customer, the category and
/// an HMAC-SHA256 of both under `unsubscribe.secret`, so only a link Tidings made can opt
/// anyone out. The link has no expiry: an old email's link keeps working, as RFC 8058 expects.
public struct UnsubscribeLinks: Sendable {
    /// What a one-click unsubscribe records (`data.category`), written by Tidings only: it adds
    /// the category to the customer's opt-outs, whatever it read them as, so it cannot undo a
    /// preference change logged just before it.
    public static let eventType = "customer.unsubscribed"
    public static let eventSource = "urn:tidings:unsubscribe"

    /// The public address of `/v1/unsubscribe`, as customers' mail clients reach it.
    public let baseURL: String
    let key: SymmetricKey

    /// Nil unless `baseURL` is an https URL (or http on loopback, for tests) and the secret has
    /// at least 16 bytes.
    public init?(baseURL: String, secret: String) {
        guard let url = URL(string: baseURL), let host = url.host, url.query == nil, secret.utf8.count >= 16,
              url.scheme == "https" || (url.scheme == "http" && (host == "127.0.0.1" || host == "localhost"))
        else { return nil }
        self.baseURL = baseURL
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// Whether a message of this category carries the link.
    public static func applies(to category: String) -> Bool {
        Workflow.Category(rawValue: category)?.canOptOut == true
    }

    /// The link for one customer and category.
    public func url(customerID: String, category: String) -> String {
        // Every byte but the unreserved ones percent-encoded: `?`, `=`, `+` and the like in an id
        // can neither end the value nor make the header read as an encoded word.
        "\(baseURL)?c=\(Self.encoded(customerID))&k=\(Self.encoded(category))&t=\(token(customerID: customerID, category: category))"
    }

    static func encoded(_ value: String) -> String {
        var text = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += String(format: "%%%02X", byte)
            }
        }
        return text
    }

    /// Whether `token` is the one this secret gives for the customer and category (compared in
    /// constant time).
    public func verify(customerID: String, category: String, token: String) -> Bool {
        guard let mac = Data(base64URLEncoded: token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.message(customerID, category), using: key)
    }

    func token(customerID: String, category: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(customerID, category), using: key)
        return Data(mac).base64URLEncoded
    }

    /// Length-prefixed, so `a|b` + `c` and `a` + `b|c` sign differently.
    static func message(_ customerID: String, _ category: String) -> Data {
        Data("\(customerID.utf8.count):\(customerID)|\(category)".utf8)
    }
}
