import Foundation
import TidingsCore

/// Builds RFC 5322 / MIME messages: multipart/alternative text and HTML in UTF-8, quoted-
/// printable bodies, RFC 2047 subjects and display names, CRLF line endings, lines within 78
/// characters. Values from events can never add a header: addresses with anything unusual are
/// refused, and names and subjects are encoded so that CR and LF cannot survive.
public struct MIMEMessage: Sendable {
    public struct Mailbox: Sendable, Hashable {
        public var name: String?
        public var address: String

        public init(name: String?, address: String) {
            self.name = name
            self.address = address
        }

        /// Parses `Name <addr@example.com>` or a bare address (for the configured sender, and
        /// for the reply address of every email: without Foundation's `NSString` trimming).
        public init?(parsing text: String) {
            let trimmed = text.trimming(Self.isSpace)
            if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
                let name = trimmed[..<open].trimming(Self.isSpace).trimming { $0 == "\"" }
                self.init(name: name.isEmpty ? nil : String(name),
                          address: String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
            } else {
                self.init(name: nil, address: String(trimmed))
            }
            guard EmailAddress.isValid(address) else { return nil }
        }

        /// Foundation's `CharacterSet.whitespaces`, which this parsing used before: spaces
        /// (Unicode's Zs) and the tab, not line ends. ASCII, where the space is the only Zs, is
        /// answered without Unicode's tables (the reply address is parsed for every email).
        static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            if scalar.isASCII { return scalar == " " || scalar == "\t" }
            return scalar.properties.generalCategory == .spaceSeparator
        }
    }

    public var from: Mailbox
    public var to: Mailbox
    public var subject: String
    public var text: String
    public var html: String?
    public var messageID: String
    public var date: Date
    /// The Message-ID of the email this one answers: `In-Reply-To` and `References`.
    public var inReplyTo: String?
    public var replyTo: Mailbox?
    public var extraHeaders: [(String, String)] = []

    public init(from: Mailbox, to: Mailbox, subject: String, text: String, html: String?, idempotencyKey: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
        messageID = Self.messageID(key: idempotencyKey, from: from)
    }

    /// A message's Message-ID, from its idempotency key: stable, so a later email can answer it.
    public static func messageID(key: String, from: Mailbox) -> String {
        "<\(idPart(key))@\(EmailAddress.domain(of: from.address) ?? "tidings.invalid")>"
    }

    /// The complete message, CRLF-terminated lines, written as bytes into one buffer: built
    /// from lines of `String` and joined, it was a quarter of an email's CPU (BENCHMARKS.md).
    public func build() throws -> [UInt8] {
        try Self.check(from)
        try Self.check(to)
        if let replyTo { try Self.check(replyTo) }
        var out: [UInt8] = []
        out.reserveCapacity(1024 + 2 * (text.utf8.count + (html?.utf8.count ?? 0)))
        // A string's bytes copied as one block: appended as a sequence of UTF-8, and from a
        // variadic list, they went a byte at a time through an array made per line.
        func put(_ text: String) {
            var text = text
            text.withUTF8 { out.append(contentsOf: $0) }
        }
        func line(_ text: String = "") {
            put(text)
            out.append(13)
            out.append(10)
        }
        put("From: ")
        line(Self.mailbox(from, room: 78 - "From: ".count))
        put("To: ")
        line(Self.mailbox(to, room: 78 - "To: ".count))
        put("Subject: ")
        line(Self.unstructured(subject, firstLineRoom: 78 - "Subject: ".count))
        put("Date: ")
        line(Self.rfc5322Date(date))
        put("Message-ID: ")
        line(messageID)
        if let inReplyTo {
            put("In-Reply-To: ")
            line(inReplyTo)
            put("References: ")
            line(inReplyTo)
        }
        if let replyTo {
            put("Reply-To: ")
            line(Self.mailbox(replyTo, room: 78 - "Reply-To: ".count))
        }
        line("MIME-Version: 1.0")
        line("Auto-Submitted: auto-generated")
        line("X-Auto-Response-Suppress: All")
        for (name, value) in extraHeaders {
            put(name)
            put(": ")
            line(Self.unstructured(value, firstLineRoom: 76 - name.count))
        }
        func part(_ type: String, _ body: String) {
            put("Content-Type: ")
            put(type)
            line("; charset=utf-8")
            line("Content-Transfer-Encoding: quoted-printable")
            line()
            QuotedPrintable.encode(body, into: &out)
            out.append(13)
            out.append(10)
        }
        if let html {
            let boundary = "=_tidings_\(Self.idPart(messageID).prefix(40))"
            put("Content-Type: multipart/alternative;\r\n boundary=\"")
            put(boundary)
            line("\"")
            line()
            line("This is a MIME message with text and HTML versions.")
            put("--")
            line(boundary)
            part("text/plain", text)
            put("--")
            line(boundary)
            part("text/html", html)
            put("--")
            put(boundary)
            line("--")
        } else {
            part("text/plain", text)
        }
        return out
    }

    private static func check(_ mailbox: Mailbox) throws {
        guard EmailAddress.isValid(mailbox.address) else {
            throw DeliveryError(.invalidMessage, "refusing to send to or from an invalid address: \(mailbox.address.debugDescription)")
        }
    }

    /// `Name <address>`, folded so the address goes on a line of its own when it would not fit.
    /// The phrase is ASCII (plain, quoted or encoded words), so its bytes are its characters.
    static func mailbox(_ mailbox: Mailbox, room: Int) -> String {
        let address = "<\(mailbox.address)>"
        guard let name = mailbox.name, !name.isEmpty else { return address }
        let phrase = encodedPhrase(name, firstLineRoom: room).utf8
        let lastLine: Int
        let lastRoom: Int
        if let lineFeed = phrase.lastIndex(of: 10) {
            lastLine = phrase.distance(from: phrase.index(after: lineFeed), to: phrase.endIndex)
            lastRoom = 78
        } else {
            lastLine = phrase.count
            lastRoom = room
        }
        let text = String(phrase)
        return lastLine + 1 + address.count <= lastRoom ? "\(text) \(address)" : "\(text)\r\n \(address)"
    }

    /// An unstructured header (Subject, RFC 5322 3.2.5): printable ASCII is written as it is,
    /// never quoted (quotes would show), folded at spaces so lines stay within 78 characters;
    /// anything else becomes RFC 2047 encoded words. Control characters become spaces first,
    /// so no value can ever end a header line. Spaces before the first word are dropped.
    static func unstructured(_ value: String, firstLineRoom: Int) -> String {
        let cleaned = withoutControls(value)
        guard isPlain(cleaned) else { return encodedWords(cleaned, firstLineRoom: firstLineRoom) }
        // Plain text is ASCII: a byte is a character. What does not start with a space and
        // fits its line, or has no space to fold at, goes as it is (the usual subject, the
        // workflow's name, a URL).
        let bytes = cleaned.utf8
        if bytes.first != 32 && (bytes.count <= firstLineRoom || !bytes.contains(32)) { return cleaned }
        return folded(cleaned, firstLineRoom: firstLineRoom)
    }

    /// Printable ASCII folded at spaces so lines stay within 78 characters, without the spaces
    /// before the first word.
    static func folded(_ cleaned: String, firstLineRoom: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(cleaned.utf8.count + 8)
        var lineLength = 0
        var room = firstLineRoom
        for word in cleaned.utf8.split(separator: 32, omittingEmptySubsequences: false) {
            if out.isEmpty {
                out.append(contentsOf: word)
                lineLength = word.count
            } else if lineLength + 1 + word.count <= room {
                out.append(32)
                out.append(contentsOf: word)
                lineLength += 1 + word.count
            } else {
                // Folding puts the line break before the space: unfolded, the text is unchanged.
                out.append(contentsOf: [13, 10, 32])
                out.append(contentsOf: word)
                lineLength = word.count
                room = 77
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A phrase (a display name): plain printable ASCII stays as it is, quoted when it has
    /// specials; anything else becomes RFC 2047 encoded words, folded.
    static func encodedPhrase(_ value: String, firstLineRoom: Int) -> String {
        let cleaned = withoutControls(value)
        if isPlain(cleaned) && cleaned.utf8.count <= firstLineRoom {
            guard cleaned.utf8.contains(where: isSpecial) else { return cleaned }
            var quoted: [UInt8] = [UInt8(ascii: "\"")]
            for byte in cleaned.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { quoted.append(UInt8(ascii: "\\")) }
                quoted.append(byte)
            }
            quoted.append(UInt8(ascii: "\""))
            return String(decoding: quoted, as: UTF8.self)
        }
        return encodedWords(cleaned, firstLineRoom: firstLineRoom)
    }

    /// RFC 5322's specials, which a phrase may carry only quoted.
    static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "."),
             UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }

    /// Every line end and control character as a space (a CRLF as one). Printable ASCII, the
    /// usual case, comes back as it is without walking its characters.
    static func withoutControls(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return value }
        return String(value.map { $0.isNewline || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? " " : $0 })
    }

    /// Printable ASCII that no reader could mistake for an encoded word.
    static func isPlain(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            guard byte >= 0x20 && byte < 0x7F, !(previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?")) else { return false }
            previous = byte
        }
        return true
    }

    static func encodedWords(_ cleaned: String, firstLineRoom: Int) -> String {
        // 45 bytes of UTF-8 make 60 base64 characters: each word stays within 75, and a
        // folded line (a space and one word) within 78. The first word fits the header's room.
        // A character is kept in one word, unless it is longer than a word may be (a letter
        // with dozens of combining marks): that one is split between its scalars, which RFC 2047
        // allows (a word holds whole characters of its charset, here code points). No word is
        // ever empty.
        var words: [String] = []
        var chunk: [UInt8] = []
        func limit() -> Int { words.isEmpty ? max(9, 3 * ((firstLineRoom - 12) / 4)) : 45 }
        for character in cleaned {
            let whole = Array(String(character).utf8)
            let pieces = whole.count > limit() ? character.unicodeScalars.map { Array(String($0).utf8) } : [whole]
            for bytes in pieces {
                let limit = limit()
                if !chunk.isEmpty && chunk.count + bytes.count > limit {
                    words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                    chunk = []
                }
                chunk.append(contentsOf: bytes)
            }
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Keeps only characters allowed in a Message-ID's left-hand side: anything else, one
    /// Unicode scalar at a time, becomes `-`.
    static func idPart(_ key: String) -> String {
        var part: [UInt8] = []
        part.reserveCapacity(key.utf8.count)
        // By UTF-8 bytes: a scalar's continuation bytes (10xxxxxx) add nothing.
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                part.append(byte)
            case 0x80...0xBF: continue
            default: part.append(UInt8(ascii: "-"))
            }
        }
        return String(decoding: part, as: UTF8.self)
    }

    /// Written by hand (`Timestamp`): a Foundation `Calendar` per message was slow.
    static func rfc5322Date(_ date: Date) -> String { Timestamp.rfc5322(date) }
}
