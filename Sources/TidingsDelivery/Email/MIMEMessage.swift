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

        /// Parses `Name <addr@example.com>` or a bare address (for the configured sender).
        public init?(parsing text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
                let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                self.init(name: name.isEmpty ? nil : name, address: String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
            } else {
                self.init(name: nil, address: trimmed)
            }
            guard EmailAddress.isValid(address) else { return nil }
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

    /// The complete message, CRLF-terminated lines.
    public func build() throws -> [UInt8] {
        for mailbox in [from, to] + (replyTo.map { [$0] } ?? []) where !EmailAddress.isValid(mailbox.address) {
            throw DeliveryError(.invalidMessage, "refusing to send to or from an invalid address: \(mailbox.address.debugDescription)")
        }
        var lines: [String] = []
        lines.append("From: " + Self.mailbox(from, room: 78 - "From: ".count))
        lines.append("To: " + Self.mailbox(to, room: 78 - "To: ".count))
        lines.append(Self.header("Subject", Self.unstructured(subject, firstLineRoom: 78 - "Subject: ".count)))
        lines.append("Date: \(Self.rfc5322Date(date))")
        lines.append("Message-ID: \(messageID)")
        if let inReplyTo {
            lines.append("In-Reply-To: \(inReplyTo)")
            lines.append("References: \(inReplyTo)")
        }
        if let replyTo { lines.append("Reply-To: " + Self.mailbox(replyTo, room: 78 - "Reply-To: ".count)) }
        lines.append("MIME-Version: 1.0")
        lines.append("Auto-Submitted: auto-generated")
        lines.append("X-Auto-Response-Suppress: All")
        for (name, value) in extraHeaders {
            lines.append(Self.header(name, Self.unstructured(value, firstLineRoom: 76 - name.count)))
        }
        let textPart = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                        QuotedPrintable.encode(text)]
        if let html {
            let boundary = "=_tidings_\(Self.idPart(messageID).prefix(40))"
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a MIME message with text and HTML versions.")
            lines.append("--\(boundary)")
            lines.append(contentsOf: textPart)
            lines.append("--\(boundary)")
            lines.append(contentsOf: ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                                      QuotedPrintable.encode(html)])
            lines.append("--\(boundary)--")
        } else {
            lines.append(contentsOf: textPart)
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    static func header(_ name: String, _ value: String) -> String { "\(name): \(value)" }

    /// `Name <address>`, folded so the address goes on a line of its own when it would not fit.
    static func mailbox(_ mailbox: Mailbox, room: Int) -> String {
        let address = "<\(mailbox.address)>"
        guard let name = mailbox.name, !name.isEmpty else { return address }
        let phrase = encodedPhrase(name, firstLineRoom: room)
        let lastLine = phrase.components(separatedBy: "\r\n").last ?? phrase
        let lastRoom = phrase.contains("\r\n") ? 78 : room
        return lastLine.count + 1 + address.count <= lastRoom ? "\(phrase) \(address)" : "\(phrase)\r\n \(address)"
    }

    /// An unstructured header (Subject, RFC 5322 3.2.5): printable ASCII is written as it is,
    /// never quoted (quotes would show), folded at spaces so lines stay within 78 characters;
    /// anything else becomes RFC 2047 encoded words. Control characters become spaces first,
    /// so no value can ever end a header line.
    static func unstructured(_ value: String, firstLineRoom: Int) -> String {
        let cleaned = withoutControls(value)
        guard isPlain(cleaned) else { return encodedWords(cleaned, firstLineRoom: firstLineRoom) }
        var lines: [String] = []
        var line = ""
        var room = firstLineRoom
        for word in cleaned.split(separator: " ", omittingEmptySubsequences: false) {
            if line.isEmpty && lines.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= room {
                line += " " + word
            } else {
                // Folding puts the line break before the space: unfolded, the text is unchanged.
                lines.append(line)
                line = String(word)
                room = 77
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n ")
    }

    /// A phrase (a display name): plain printable ASCII stays as it is, quoted when it has
    /// specials; anything else becomes RFC 2047 encoded words, folded.
    static func encodedPhrase(_ value: String, firstLineRoom: Int) -> String {
        let cleaned = withoutControls(value)
        if isPlain(cleaned) && cleaned.count <= firstLineRoom {
            let specials = CharacterSet(charactersIn: "()<>[]:;@\\,.\"")
            if cleaned.unicodeScalars.contains(where: specials.contains) {
                return "\"" + cleaned.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            return cleaned
        }
        return encodedWords(cleaned, firstLineRoom: firstLineRoom)
    }

    static func withoutControls(_ value: String) -> String {
        String(value.map { $0.isNewline || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? " " : $0 })
    }

    /// Printable ASCII that no reader could mistake for an encoded word.
    static func isPlain(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } && !text.contains("=?")
    }

    static func encodedWords(_ cleaned: String, firstLineRoom: Int) -> String {
        // 45 bytes of UTF-8 make 60 base64 characters: each word stays within 75, and a
        // folded line (a space and one word) within 78. The first word fits the header's room.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in cleaned {
            let bytes = Array(String(character).utf8)
            let limit = words.isEmpty ? max(9, 3 * ((firstLineRoom - 12) / 4)) : 45
            if chunk.count + bytes.count > limit {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Keeps only characters allowed in a Message-ID's left-hand side.
    static func idPart(_ key: String) -> String {
        var part = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_": part.append(scalar)
            default: part.append("-")
            }
        }
        return String(part)
    }

    /// Written by hand (`Timestamp`): a Foundation `Calendar` per message was slow.
    static func rfc5322Date(_ date: Date) -> String { Timestamp.rfc5322(date) }
}
