import Crypto
import Foundation

/// One-click unsubscribe (RFC 8058) for the categories a customer may opt out of
/// (`Workflow.Category.canOptOut`): an HTTPS link that carries the customer, the category and
/// an HMAC-SHA256 of both under `unsubscribe.secret`, so only a link Tidings made can opt
/// anyone out. The link has no expiry: an old email's link keeps working, as RFC 8058 expects.
public struct UnsubscribeLinks: Sendable {
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
        guard var components = URLComponents(string: baseURL) else { return baseURL }
        components.queryItems = [
            URLQueryItem(name: "c", value: customerID), URLQueryItem(name: "k", value: category),
            URLQueryItem(name: "t", value: token(customerID: customerID, category: category)),
        ]
        // `+` is a space to form decoders: encoded, so a customer id with one survives.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components.percentEncodedQuery = query
        return components.string ?? baseURL
    }

    /// Whether `token` is the one this secret gives for the customer and category (compared in
    /// constant time).
    public func verify(customerID: String, category: String, token: String) -> Bool {
        guard let mac = Self.base64URLDecoded(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.message(customerID, category), using: key)
    }

    func token(customerID: String, category: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(customerID, category), using: key)
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Length-prefixed, so `a|b` + `c` and `a` + `b|c` sign differently.
    static func message(_ customerID: String, _ category: String) -> Data {
        Data("\(customerID.utf8.count):\(customerID)|\(category)".utf8)
    }

    static func base64URLDecoded(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
