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
        for (name, value) in raw(body) {
            guard let name = decode(name), let value = decode(value) else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    /// The fields of a form or query, forgiving as a browser's page must be: the first of a
    /// repeated name wins, and a name or value whose escape is broken reads as empty, not half
    /// decoded.
    public static func fields(_ body: some Collection<UInt8>) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in raw(Array(body)) {
            let key = decode(name) ?? ""
            if fields[key] == nil { fields[key] = decode(value) ?? "" }
        }
        return fields
    }

    /// `name=value` pairs split at `&` and the first `=`, not decoded; empty fields are skipped.
    private static func raw(_ body: [UInt8]) -> [(ArraySlice<UInt8>, ArraySlice<UInt8>)] {
        body.split(separator: UInt8(ascii: "&")).map { field in
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            return (parts[0], parts.count > 1 ? parts[1] : [])
        }
    }

    /// One name or value: `+` is a space; nil when a `%` escape is broken.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self).removingPercentEncoding
    }
}
