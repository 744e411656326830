import Foundation

/// `application/x-www-form-urlencoded`, both ways: Twilio's status callbacks and requests, and
/// the console's forms and links.
public enum FormEncoding {
    /// Unreserved characters stay, everything else is %XX: safe in a query and in a path segment.
    public static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The pairs, decoded (`+` is a space); nil when a `%` escape is broken or the bytes are
    /// not UTF-8.
    public static func pairs(_ body: [UInt8]) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for field in body.split(separator: UInt8(ascii: "&")) where !field.isEmpty {
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : []) else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    /// One name or value: `+` is a space; nil when a `%` escape is broken.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self).removingPercentEncoding
    }
}
