import Crypto
import Foundation

/// What a mail system reported about an email Tidings sent, read from the report it mailed
/// back: an RFC 3464 delivery status notification (`multipart/report;
/// report-type=delivery-status`) or an RFC 5965 abuse report (`report-type=feedback-report`,
/// a spam complaint). The email is found by the Message-ID in the returned headers, which
/// Tidings made from the message key. Pure and total: any bytes give a report or an error.
public struct BounceReport: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        /// `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
        public var action: String
        /// The enhanced status code (`5.1.1`), when given.
        public var status: String?
        public var address: String?
        /// The address as first given (`Original-Recipient`), before any alias rewrote it.
        public var originalAddress: String?
        public var diagnostic: String?
        /// When the reporting system took the message in (`Arrival-Date`): two reports of one
        /// bounce share it, two bounces of two sends do not.
        public var arrival: String?

        public init(action: String, status: String?, address: String?, originalAddress: String? = nil, diagnostic: String? = nil,
                    arrival: String? = nil) {
            self.action = action
            self.status = status
            self.address = address
            self.originalAddress = originalAddress
            self.diagnostic = diagnostic
            self.arrival = arrival
        }
    }

    /// The Message-ID of the email the report is about, without its angle brackets.
    public var messageID: String
    /// Per recipient, for a delivery status notification; empty for a complaint.
    public var recipients: [Recipient]
    public var isComplaint: Bool

    /// The message key: the Message-ID's left-hand side (`MIMEMessage.messageID`).
    public var key: String {
        messageID.split(separator: "@", maxSplits: 1).first.map(String.init) ?? messageID
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> BounceReport {
        // Lines end in CRLF on the wire, LF once saved; a stray CR ends one too.
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let (headers, body) = split(text)
        guard let contentType = headers["content-type"], contentType.lowercased().hasPrefix("multipart/report") else {
            throw ParseError(description: "not a multipart/report: send the bounce or complaint as the mail system wrote it (RFC 3464 or RFC 5965)")
        }
        guard let boundary = parameter("boundary", of: contentType), !boundary.isEmpty else {
            throw ParseError(description: "the multipart/report has no boundary parameter")
        }
        var status: String?
        var feedback: String?
        var original: [String: String]?
        for part in parts(of: body, boundary: boundary) {
            let (partHeaders, partBody) = split(part)
            let type = (partHeaders["content-type"] ?? "text/plain").lowercased()
            let content = decoded(partBody, encoding: partHeaders["content-transfer-encoding"])
            if type.hasPrefix("message/delivery-status") || type.hasPrefix("message/global-delivery-status") {
                status = content
            } else if type.hasPrefix("message/feedback-report") {
                feedback = content
            } else if type.hasPrefix("message/rfc822") || type.hasPrefix("text/rfc822-headers") || type.hasPrefix("message/global") {
                original = split(content).headers
            }
        }
        guard let original, let id = original["message-id"].flatMap(Self.messageID) else {
            throw ParseError(description: "the report does not return the original headers with a Message-ID, so it names no message")
        }
        if let feedback {
            // RFC 5965: only `abuse` is a spam complaint (`not-spam`, `auth-failure` and the
            // like say nothing about the customer's wishes).
            let report = fieldGroups(feedback).first ?? [:]
            guard report["feedback-type"]?.lowercased() == "abuse" else {
                throw ParseError(description: "a feedback report of type \(report["feedback-type"] ?? "(none)") is not a spam complaint")
            }
            let recipient = report["original-rcpt-to"].map { Recipient(action: "complained", status: nil, address: Self.address($0)) }
            return BounceReport(messageID: id, recipients: recipient.map { [$0] } ?? [], isComplaint: true)
        }
        guard let status else {
            throw ParseError(description: "the multipart/report has neither a message/delivery-status nor a message/feedback-report part")
        }
        let groups = fieldGroups(status)
        let arrival = groups.first?["arrival-date"]
        let recipients = groups.dropFirst().compactMap { group -> Recipient? in
            guard let action = group["action"]?.lowercased() else { return nil }
            let status = group["status"].map { String($0.prefix { !$0.isWhitespace }) }
            return Recipient(action: action, status: status, address: group["final-recipient"].map(Self.address),
                             originalAddress: group["original-recipient"].map(Self.address), diagnostic: group["diagnostic-code"],
                             arrival: arrival)
        }
        guard !recipients.isEmpty else { throw ParseError(description: "the delivery status names no recipient with an Action") }
        return BounceReport(messageID: id, recipients: recipients, isComplaint: false)
    }

    /// What the report says about the message, as a receipt: a complaint, a bounce (hard for
    /// a permanent 5.x.x failure, soft for a 4.x.x one), or a delivery. Nil for what only
    /// says the mail system is still trying (`delayed`) or passed it on (`relayed`), and for a
    /// report about another address than the message's.
    /// `key` is the message key when the Message-ID carried more (a tag, `MessageIDSigner`).
    public func receipt(for message: (customerID: String, recipient: String), key: String? = nil) -> Receipt? {
        let key = key ?? self.key
        func make(_ status: Receipt.Status, kind: Receipt.Kind? = nil, address: String?, reason: String?) -> Receipt {
            Receipt(key: key, status: status, kind: kind, channel: .email, address: address ?? message.recipient, customerID: message.customerID,
                    reason: reason, provider: isComplaint ? "arf" : "dsn")
        }
        // Only a report about the address Tidings sent to: one about another (the customer's
        // mail forwarded on, and bouncing there) says nothing about theirs.
        let wanted = message.recipient.lowercased()
        let mine = recipients.first { $0.address?.lowercased() == wanted || $0.originalAddress?.lowercased() == wanted }
        if isComplaint {
            // An abuse report that names its recipient must name this one.
            guard recipients.isEmpty || mine != nil else { return nil }
            return make(.complained, address: nil, reason: "reported as spam")
        }
        guard let mine else { return nil }
        let reason = [mine.status, mine.diagnostic].compactMap { $0 }.joined(separator: " ")
        switch mine.action {
        case "failed":
            let (status, kind) = Self.classify(mine.status)
            return make(status, kind: kind, address: mine.address, reason: reason)
        case "delivered":
            return make(.delivered, address: mine.address, reason: nil)
        default:
            return nil
        }
    }

    /// RFC 3463's enhanced status codes: 4.x.x is temporary (soft); 5.1.x (no such mailbox or
    /// domain), 5.2.1 (mailbox disabled) and 5.4.4 (no route to the domain) are the address's
    /// fault for good (hard: suppressed); 5.2.2 (mailbox full) is soft. The rest, 5.7.x policy
    /// and spam blocks above all, or no code at all, fail the message without blaming the address.
    static func classify(_ code: String?) -> (Receipt.Status, Receipt.Kind?) {
        guard let code else { return (.failed, nil) }
        if code.hasPrefix("4.") || code == "5.2.2" { return (.bounced, .soft) }
        if code.hasPrefix("5.1.") || code == "5.2.1" || code == "5.4.4" { return (.bounced, .hard) }
        return (.failed, nil)
    }

    /// An id for the receipt event: the same report relayed twice (with more `Received:` lines)
    /// is stored once, while a second bounce of a message sent again is a new one.
    public func receiptID(for receipt: Receipt) -> String {
        let mine = recipients.first { $0.address?.lowercased() == receipt.address?.lowercased() }
        let parts = [receipt.key, receipt.status.rawValue, receipt.kind?.rawValue ?? "", mine?.status ?? "", receipt.address ?? "", mine?.arrival ?? ""]
        return (isComplaint ? "arf-" : "dsn-") + IdempotencyKey.hex(SHA256.hash(data: Array(parts.joined(separator: "\u{0}").utf8))).prefix(32)
    }

    /// Headers (lower-cased names, folded lines joined, the first of a repeated name) and body.
    /// One pass over the lines: a report is outside input, so nothing here may be quadratic.
    static func split(_ text: String) -> (headers: [String: String], body: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let blank = lines.firstIndex { $0.allSatisfy { $0 == " " || $0 == "\t" } } ?? lines.endIndex
        let body = blank < lines.endIndex ? lines[(blank + 1)...].joined(separator: "\n") : ""
        return (fields(lines[..<blank]), body)
    }

    static func fields(_ lines: ArraySlice<Substring>) -> [String: String] {
        // A value's folded lines are gathered and joined once: appending to the value line by
        // line would copy it every time (quadratic in a header folded 100,000 times).
        var pieces: [String: [String]] = [:]
        var lastName: String?
        for line in lines {
            if let first = line.first, first == " " || first == "\t" {
                if let lastName { pieces[lastName]?.append(line.trimmingCharacters(in: .whitespaces)) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else {
                lastName = nil
                continue
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            // Only the first of a name counts, and folded lines belong to it alone.
            lastName = pieces[name] == nil ? name : nil
            if pieces[name] == nil { pieces[name] = [line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)] }
        }
        return pieces.mapValues { $0.joined(separator: " ") }
    }

    /// The parts between `--boundary` lines (RFC 2046), the preamble and epilogue left out.
    static func parts(of body: String, boundary: String) -> [String] {
        var parts: [String] = []
        var current: [Substring]?
        let delimiter = "--\(boundary)", closing = "--\(boundary)--"
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            // Compared only when the line is as long as a delimiter could be.
            guard line.utf8.count >= delimiter.utf8.count, line.hasPrefix("--") else {
                current?.append(line)
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == delimiter || trimmed == closing {
                if let current { parts.append(current.joined(separator: "\n")) }
                if trimmed == closing { return parts }
                current = []
                continue
            }
            current?.append(line)
        }
        // No closing delimiter (a report cut short): what came after the last one still counts.
        if let current, !current.isEmpty { parts.append(current.joined(separator: "\n")) }
        return parts
    }

    /// The delivery status's groups of fields, separated by blank lines.
    static func fieldGroups(_ text: String) -> [[String: String]] {
        var groups: [[String: String]] = []
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) + [Substring("")] {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if !lines.isEmpty { groups.append(fields(lines[...])) }
                lines = []
            } else {
                lines.append(line)
            }
        }
        return groups
    }

    static func decoded(_ body: String, encoding: String?) -> String {
        guard encoding?.lowercased().trimmingCharacters(in: .whitespaces) == "base64",
              let data = Data(base64Encoded: body.filter { !$0.isWhitespace })
        else { return body }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    /// A header parameter (`boundary="abc"`), quotes removed.
    static func parameter(_ name: String, of value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// `<id@host>` → `id@host`.
    static func messageID(_ value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.firstIndex(of: "<"), let close = trimmed[open...].firstIndex(of: ">") else {
            return trimmed.isEmpty || trimmed.contains(" ") ? nil : trimmed
        }
        let id = String(trimmed[trimmed.index(after: open)..<close])
        return id.isEmpty ? nil : id
    }

    /// `rfc822; ann@example.com` → `ann@example.com`.
    static func address(_ value: String) -> String {
        // `Final-Recipient:` may come empty, or as a lone `;`: no piece is assumed to exist.
        let afterType = value.firstIndex(of: ";").map { value[value.index(after: $0)...] } ?? Substring(value)
        return afterType.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
    }
}
