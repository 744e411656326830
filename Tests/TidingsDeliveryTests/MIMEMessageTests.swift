import Foundation
import Testing
@testable import TidingsCore
@testable import TidingsDelivery

@Suite("MIME messages")
struct MIMEMessageTests {
    let date = Date(timeIntervalSince1970: 1_795_000_000)

    func build(name: String? = "Ann Example", subject: String = "Your order", text: String = "Hello", html: String? = "<p>Hello</p>",
               to: String = "ann@example.com") throws -> String {
        let message = MIMEMessage(from: MIMEMessage.Mailbox(name: "Northwind Goods", address: "orders@northwind.example"),
                                  to: MIMEMessage.Mailbox(name: name, address: to), subject: subject, text: text, html: html,
                                  idempotencyKey: "order_shipped.00ff", date: date)
        return String(decoding: try message.build(), as: UTF8.self)
    }

    func headers(_ message: String) -> [String] {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        return head.components(separatedBy: "\r\n")
    }

    @Test func hasTheRequiredHeadersAndCRLFOnly() throws {
        let message = try build()
        let lines = headers(message)
        #expect(lines.contains("Message-ID: <order_shipped.00ff@northwind.example>"))
        #expect(lines.contains("Auto-Submitted: auto-generated"))
        #expect(lines.contains("MIME-Version: 1.0"))
        #expect(lines.contains { $0.hasPrefix("Date: ") && $0.hasSuffix(" +0000") })
        #expect(lines.contains("To: Ann Example <ann@example.com>"))
        #expect(lines.contains("From: Northwind Goods <orders@northwind.example>"))
        #expect(message.contains("Content-Type: multipart/alternative;\r\n boundary=\"=_tidings_"))
        // Every LF is part of a CRLF.
        #expect(!message.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!message.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(message.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(message.contains("Content-Type: text/html; charset=utf-8"))
    }

    @Test func encodesUnicodeSubjectsAndNamesPerRFC2047() throws {
        let message = try build(name: "Zoë Müller", subject: "Ihre Bestellung ist unterwegs — Grüße")
        let lines = headers(message)
        let subject = try #require(lines.first { $0.hasPrefix("Subject: ") })
        #expect(subject.hasPrefix("Subject: =?UTF-8?B?"))
        #expect(lines.contains { $0.hasPrefix("To: =?UTF-8?B?") && $0.hasSuffix(" <ann@example.com>") })
        let word = subject.dropFirst("Subject: =?UTF-8?B?".count).dropLast(2)
        let decoded = String(decoding: Data(base64Encoded: String(word)) ?? Data(), as: UTF8.self)
        #expect("Ihre Bestellung ist unterwegs — Grüße".hasPrefix(decoded))
    }

    /// Subject is unstructured: specials are plain text there, and quotes would show to the
    /// customer ("We're on it: ..." arrived wrapped in quotes). Long subjects fold at spaces.
    @Test func subjectsAreNeverQuotedAndFoldAtSpaces() throws {
        let plain = try build(subject: "We're on it: complaint T-9004 (re. o-5003), ann@example.com")
        #expect(headers(plain).contains("Subject: We're on it: complaint T-9004 (re. o-5003), ann@example.com"))
        let long = (1...20).map { "word\($0)," }.joined(separator: " ")
        let folded = try build(subject: long)
        let head = folded.components(separatedBy: "\r\n\r\n")[0]
        let start = try #require(head.range(of: "Subject: "))
        let field = head[start.upperBound...].components(separatedBy: "\r\nDate: ")[0]
        #expect(field.contains("\r\n "))
        #expect(field.replacingOccurrences(of: "\r\n", with: "") == long)
        #expect(field.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
    }

    /// A later email about the same order answers the first; replies name the order.
    @Test func threadsOnTheFirstEmailAndRepliesCarryTheReference() throws {
        let from = MIMEMessage.Mailbox(name: "Northwind Goods", address: "orders@northwind.example")
        let message = OutgoingMessage(key: "order_shipped.00ff", channel: .email, workflow: "order_shipped", category: "order_status",
                                      customerID: "c-1", subjectID: "o-5001", recipient: "ann@example.com", recipientName: "Ann",
                                      content: RenderedMessage(subject: "Shipped", text: "Hello", html: nil), date: date,
                                      threadRoot: "order_confirmation.11aa")
        let replyTo = try #require(ReplyAddress(pattern: "Northwind Help <help+{ref}@northwind.example>"))
        let lines = headers(String(decoding: try SMTPTransport.mime(for: message, from: from, options: EmailOptions(replyTo: replyTo)).build(), as: UTF8.self))
        #expect(lines.contains("In-Reply-To: <order_confirmation.11aa@northwind.example>"))
        #expect(lines.contains("References: <order_confirmation.11aa@northwind.example>"))
        #expect(lines.contains("Reply-To: Northwind Help <help+o-5001@northwind.example>"))

        var first = message
        first.threadRoot = nil
        first.subjectID = nil
        let firstLines = headers(String(decoding: try SMTPTransport.mime(for: first, from: from, options: EmailOptions(replyTo: replyTo)).build(), as: UTF8.self))
        #expect(!firstLines.contains { $0.hasPrefix("In-Reply-To") || $0.hasPrefix("References") })
        #expect(firstLines.contains("Reply-To: Northwind Help <help@northwind.example>"))
    }

    /// RFC 8058: follow-ups carry one-click unsubscribe; an order's status never does.
    @Test func followUpsCarryOneClickUnsubscribe() throws {
        let from = MIMEMessage.Mailbox(name: "Northwind Goods", address: "orders@northwind.example")
        let links = try #require(UnsubscribeLinks(baseURL: "https://northwind.example/v1/unsubscribe", secret: "0123456789abcdef0123"))
        var message = OutgoingMessage(key: "satisfaction.00aa", channel: .email, workflow: "satisfaction_survey", category: "follow_up",
                                      customerID: "c-1", subjectID: "o-1", recipient: "ann@example.com", recipientName: nil,
                                      content: RenderedMessage(subject: "How did we do?", text: "Hello", html: nil), date: date)
        let lines = headers(String(decoding: try SMTPTransport.mime(for: message, from: from, options: EmailOptions(unsubscribe: links)).build(),
                                   as: UTF8.self))
        let link = try #require(lines.first { $0.hasPrefix("List-Unsubscribe: <https://northwind.example/v1/unsubscribe?c=c-1&k=follow_up&t=") })
        #expect(lines.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        let url = try #require(URLComponents(string: String(link.dropFirst("List-Unsubscribe: <".count).dropLast())))
        let token = try #require(url.queryItems?.first { $0.name == "t" }?.value)
        #expect(links.verify(customerID: "c-1", category: "follow_up", token: token))
        #expect(!links.verify(customerID: "c-2", category: "follow_up", token: token))
        message.category = "order_status"
        let status = headers(String(decoding: try SMTPTransport.mime(for: message, from: from, options: EmailOptions(unsubscribe: links)).build(),
                                    as: UTF8.self))
        #expect(!status.contains { $0.hasPrefix("List-Unsubscribe") })
        // An id that could end a value or start an encoded word stays one value, and verifies.
        message.category = "follow_up"
        message.customerID = "?=x&t=y+z ü"
        let odd = headers(String(decoding: try SMTPTransport.mime(for: message, from: from, options: EmailOptions(unsubscribe: links)).build(),
                                 as: UTF8.self))
        let oddLink = try #require(odd.first { $0.hasPrefix("List-Unsubscribe: <") })
        let oddText = oddLink.dropFirst("List-Unsubscribe: ".count)
        #expect(!oddText.contains("=?") && !oddText.contains(" ") && !oddText.contains("ü"), "\(oddLink)")
        let oddURL = try #require(URLComponents(string: String(oddLink.dropFirst("List-Unsubscribe: <".count).dropLast())))
        #expect(oddURL.queryItems?.first { $0.name == "c" }?.value == "?=x&t=y+z ü")
        #expect(links.verify(customerID: "?=x&t=y+z ü", category: "follow_up", token: try #require(oddURL.queryItems?.first { $0.name == "t" }?.value)))
        #expect(UnsubscribeLinks(baseURL: "http://shop.example/u", secret: "0123456789abcdef0123") == nil, "https only, off loopback")
        #expect(UnsubscribeLinks(baseURL: "https://shop.example/u", secret: "short") == nil)
    }

    @Test func aReferenceCannotBreakTheReplyAddress() throws {
        let replyTo = try #require(ReplyAddress(pattern: "help+{ref}@northwind.example"))
        let address = try #require(replyTo.mailbox(for: "t-1\r\nBcc: x@evil.test")?.address)
        #expect(address.hasPrefix("help+t-1-") && address.hasSuffix("-evil.test@northwind.example"), "\(address)")
        #expect(address.filter { $0 == "@" }.count == 1 && !address.contains { $0.isWhitespace || $0.isNewline })
        #expect(replyTo.mailbox(for: String(repeating: "x", count: 100))?.address.count == "help+@northwind.example".count + 40)
        #expect(ReplyAddress(pattern: "not an address {ref}") == nil)
        #expect(ReplyAddress(pattern: "Help <help@northwind.example>")?.mailbox(for: "o-1")?.address == "help@northwind.example")
    }

    /// The reply address filled in from the pattern parsed once is what parsing the filled-in
    /// pattern gives, for patterns with `{ref}` in the name, the address or both, and for any id.
    @Test func aReplyAddressIsWhatItsFilledInPatternParsesTo() throws {
        let patterns = ["help+{ref}@northwind.example", "Northwind Help <help+{ref}@northwind.example>",
                        "\"Help {ref}\" <help+{ref}@northwind.example>", " Zoë {ref} <{ref}.help@northwind.example> ",
                        "{ref} <help@northwind.example>", "<help-{ref}@northwind.example>",
                        "Help <\(String(repeating: "h", count: 58))+{ref}@northwind.example>"]
        let idPieces = ["t", "-", "1", ".", "_", " ", "ü", "\r\n", "<", "@", "\"", String(repeating: "x", count: 30)]
        var generator = SystemRandomNumberGenerator()
        for pattern in patterns {
            let replyTo = try #require(ReplyAddress(pattern: pattern), "\(pattern)")
            for _ in 0..<200 {
                let id = (0..<Int.random(in: 1...6, using: &generator)).map { _ in idPieces.randomElement(using: &generator) ?? "" }.joined()
                let reference = ReplyAddress.reference(id)
                let expected = MIMEMessage.Mailbox(parsing: replyTo.pieces.joined(separator: reference))
                #expect(replyTo.mailbox(for: id) == expected, "\(pattern) \(id.debugDescription)")
            }
        }
    }

    @Test func readsTheCapabilitiesOfTheLastEHLOReply() {
        let greeting = ["220 mail.example ESMTP", "250-mail.example", "250-SIZE 1000", "250 STARTTLS"]
        let afterTLS = greeting + ["220 go ahead", "250-mail.example", "250-8BITMIME", "250 SMTPUTF8", "250 OK"]
        #expect(SMTPCapabilities.parse(greeting)?.extensions == ["SIZE", "STARTTLS"])
        #expect(SMTPCapabilities.parse(afterTLS)?.smtpUTF8 == true)
        #expect(SMTPCapabilities.parse(["250 OK", "354 go", "250 queued"]) == nil)  // a reused connection
        #expect(SMTPCapabilities.needsSMTPUTF8("zoë@example.com"))
        #expect(!SMTPCapabilities.needsSMTPUTF8("zoe@bücher.example"))
    }

    @Test func keepsEveryLineWithinLimits() throws {
        let long = String(repeating: "Lorem ipsum dolor sit amet, é consectetur. ", count: 40)
        let message = try build(subject: String(repeating: "Very long subject ", count: 10), text: long, html: "<p>\(long)</p>")
        for line in message.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "line too long: \(line.prefix(40))…")
        }
    }

    /// A letter with dozens of combining marks is longer than an encoded word may be: it is
    /// split between its scalars, and no word is empty or pushes a line past 78 characters.
    @Test func aCharacterLongerThanAnEncodedWordIsSplitBetweenItsScalars() throws {
        let stacked = "e" + String(repeating: "\u{301}", count: 30)
        let family = "👩‍👩‍👧‍👦"
        let message = try build(name: stacked + " " + family, subject: "Zoë " + stacked + family + stacked)
        #expect(!message.contains("=?UTF-8?B??="))
        for line in message.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "line too long: \(line.prefix(40))…")
        }
        let subject = headers(message).drop { !$0.hasPrefix("Subject: ") }.prefix { !$0.hasPrefix("Date: ") }.joined()
        let decoded = subject.dropFirst("Subject: ".count).components(separatedBy: " ").map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst("=?UTF-8?B?".count).dropLast(2))) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == "Zoë " + stacked + family + stacked)
    }

    @Test func aNameCannotInjectAHeader() throws {
        let message = try build(name: "Ann\r\nBcc: x@evil.test", subject: "Hi\r\nBcc: y@evil.test\nX-Evil: 1")
        let lines = headers(message)
        #expect(!lines.contains { $0.lowercased().hasPrefix("bcc:") })
        #expect(!lines.contains { $0.lowercased().hasPrefix("x-evil:") })
        #expect(!message.contains("\r\nBcc:"))
    }

    @Test func refusesAddressesThatCouldSmuggleCommands() {
        #expect(throws: DeliveryError.self) { try build(to: "ann@example.com>\r\nRCPT TO:<x@evil.test") }
        #expect(throws: DeliveryError.self) { try build(to: "not an address") }
    }

    @Test func quotedPrintableRoundTrips() {
        let text = "Grüße = 100%\nA line with trailing space \n" + String(repeating: "x", count: 200)
        let encoded = QuotedPrintable.encode(text)
        #expect(encoded.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(decodeQuotedPrintable(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    /// Exact encodings: whitespace before a line end is encoded (a literal one could be
    /// stripped in transit), and a soft break comes before an `=XX` that would pass column 75.
    @Test func quotedPrintableEncodesTrailingWhitespaceAndBreaksBeforeTheLimit() {
        #expect(QuotedPrintable.encode("a \nb") == "a=20\r\nb")
        #expect(QuotedPrintable.encode("a\t\r") == "a=09\r\n")
        #expect(QuotedPrintable.encode("a b ") == "a b=20")
        #expect(QuotedPrintable.encode(String(repeating: "x", count: 75)) == String(repeating: "x", count: 75))
        #expect(QuotedPrintable.encode(String(repeating: "x", count: 76)) == String(repeating: "x", count: 75) + "=\r\nx")
        #expect(QuotedPrintable.encode(String(repeating: "x", count: 73) + "=") == String(repeating: "x", count: 73) + "=\r\n=3D")
        #expect(QuotedPrintable.encode(String(repeating: "x", count: 72) + "=") == String(repeating: "x", count: 72) + "=3D")
    }

    /// Random text of spaces, tabs, line ends of every kind, `=`, ASCII and beyond: it decodes
    /// back to itself (line ends as CRLF), and no encoded line passes 76 characters or ends in
    /// white space.
    @Test func quotedPrintableRoundTripsRandomText() {
        let pieces = [" ", "\t", "\n", "\r\n", "\r", "=", "a", "Z", "~", "ü", "€", "😀", String(repeating: "x", count: 80), "  \n"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            // Up to 200 pieces: long enough that the encoder's buffer fills several times.
            let text = (0..<Int.random(in: 0...200, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            let encoded = QuotedPrintable.encode(text)
            let lines = encoded.components(separatedBy: "\r\n")
            #expect(lines.allSatisfy { $0.utf8.count <= 76 }, "\(text.debugDescription)")
            // White space at a line's end could be stripped in transit: it is always encoded.
            #expect(lines.allSatisfy { $0.utf8.last != 32 && $0.utf8.last != 9 }, "\(text.debugDescription)")
            let expected = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .replacingOccurrences(of: "\n", with: "\r\n")
            #expect(decodeQuotedPrintable(encoded) == expected, "\(text.debugDescription)")
        }
    }

    /// A plain header value that fits its line, or has no space to fold at, is written as it
    /// is without the folding loop: random values, with leading, doubled and trailing spaces,
    /// tabs and line ends (which become spaces first), and every room from none to more than a
    /// line, come out as the loop writes them; so do the edge cases, fixed.
    @Test func unfoldedHeaderValuesMatchTheFoldingLoop() {
        func expected(_ value: String, _ room: Int) -> String {
            let cleaned = MIMEMessage.withoutControls(value)
            return MIMEMessage.isPlain(cleaned) ? MIMEMessage.folded(cleaned, firstLineRoom: room)
                : MIMEMessage.encodedWords(cleaned, firstLineRoom: room)
        }
        let fixed: [(String, Int)] = [("", 10), ("", -4), (" ", 10), ("   ", 10), (" a", 10), ("a  b ", 10), ("a b", 3), ("a b", 2),
                                      ("ab", -4), ("\tab", 10), ("\r\nab c", 4), ("ab cd", 5), ("ab cd", 4)]
        for (value, room) in fixed {
            #expect(MIMEMessage.unstructured(value, firstLineRoom: room) == expected(value, room), "\(value.debugDescription) in \(room)")
        }
        let pieces = [" ", "  ", "\t", "\r\n", "a", "Z", "word", "=", "?", "(re.", "https://shop.example/u?c=1&k=x", String(repeating: "x", count: 90)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let value = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            let room = Int.random(in: -4...100, using: &generator)
            #expect(MIMEMessage.unstructured(value, firstLineRoom: room) == expected(value, room), "\(value.debugDescription) in \(room)")
        }
    }

    /// A Message-ID's left part keeps letters, digits, `-`, `.` and `_`; every other Unicode
    /// scalar, however many bytes it has, becomes one `-`.
    @Test func aMessageIDKeepsOneDashPerScalarItCannotCarry() {
        #expect(MIMEMessage.idPart("o-1/ü😀x") == "o-1---x")
        let pieces = ["a", "Z", "9", "-", ".", "_", "/", "@", " ", "ü", "€", "😀", "e\u{301}", "\u{0}", "~"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let key = (0..<Int.random(in: 0...20, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            let expected = String(key.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "-"
            })
            #expect(MIMEMessage.idPart(key) == expected, "\(key.debugDescription)")
        }
    }

    /// A straightforward decoder, written independently of the encoder, for the round trip.
    func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "="), index + 2 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
