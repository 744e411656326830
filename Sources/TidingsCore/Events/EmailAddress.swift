/// Checks addresses that will reach an SMTP envelope or a header: anything that could smuggle
/// a CR, LF, angle bracket or a second address is refused rather than encoded.
public enum EmailAddress {
    /// Read as UTF-8 bytes: every character it refuses is ASCII, and Foundation's substring
    /// search (which `String.contains` of a string falls back to) cost 3% of an append. A
    /// refused ASCII byte followed by a combining mark is refused too, not read as a new letter.
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid($0) }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let dot = UInt8(ascii: ".")
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let domainStart = at + 1
        guard at > 0, at <= 64, domainStart < bytes.count, bytes[domainStart] != dot, bytes[bytes.count - 1] != dot else { return false }
        var dotInDomain = false
        for index in bytes.indices {
            let byte = bytes[index]
            if byte < 0x21 || byte == 0x7F || (refused[Int(byte)] && index != at) { return false }
            if index >= domainStart, byte == dot {
                if bytes[index - 1] == dot { return false }
                dotInDomain = true
            }
        }
        return dotInDomain
    }

    /// ASCII that may not appear in an address (an `@` only as its last one).
    private static let refused: [Bool] = (0..<256).map { byte in
        byte < 128 && "<>()[]\\,;:\" @".utf8.contains(UInt8(byte))
    }

    /// The part after the `@`, used to build Message-IDs.
    public static func domain(of text: String) -> String? {
        text.lastIndex(of: "@").map { String(text[text.index(after: $0)...]) }
    }
}
