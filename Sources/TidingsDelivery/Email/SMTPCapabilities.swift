/// What an SMTP server offers, read from its EHLO reply (RFC 5321 4.1.1.1): the multi-line
/// `250` reply whose lines after the first each name an extension. libcurl hands the server's
/// reply lines to the header callback, so they come back with the transfer's response.
public struct SMTPCapabilities: Sendable, Hashable {
    public var extensions: Set<String>

    /// RFC 6531: the server takes UTF-8 in addresses (and headers).
    public var smtpUTF8: Bool { extensions.contains("SMTPUTF8") }

    /// The capabilities of the last EHLO reply among these lines (after STARTTLS there are
    /// two), or nil when there is none: a reused connection does not greet again.
    public static func parse(_ lines: [String]) -> SMTPCapabilities? {
        var found: SMTPCapabilities?
        var block: [String] = []
        for line in lines {
            if line.hasPrefix("250-") {
                block.append(String(line.dropFirst(4)))
            } else if line.hasPrefix("250 "), !block.isEmpty {
                block.append(String(line.dropFirst(4)))
                // The first line is the server's name; each further line starts with a keyword.
                let keywords = block.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } }
                found = SMTPCapabilities(extensions: Set(keywords))
                block = []
            } else {
                block = []
            }
        }
        return found
    }

    /// A local part outside ASCII needs SMTPUTF8; a domain outside ASCII does not, since
    /// libcurl sends it as an IDNA A-label.
    public static func needsSMTPUTF8(_ address: String) -> Bool {
        let utf8 = address.utf8
        return !utf8[..<(utf8.firstIndex(of: UInt8(ascii: "@")) ?? utf8.endIndex)].allSatisfy { $0 < 0x80 }
    }
}
