import Foundation
import TidingsCore

/// Where a customer's reply to an email goes (`email.reply_to`), with the order or ticket it is
/// about in the address: `Northwind Help <help+{ref}@northwind.example>` becomes
/// `help+t-9001@northwind.example` for a message about ticket t-9001, so the team's mailbox
/// sees what a reply is about. Without an order or ticket, `+{ref}` is left out.
public struct ReplyAddress: Sendable, Hashable {
    public let pattern: String

    /// Nil when the pattern does not make a valid mailbox.
    public init?(pattern: String) {
        self.pattern = pattern
        guard mailbox(for: "t-1") != nil, mailbox(for: nil) != nil else { return nil }
    }

    public func mailbox(for subjectID: String?) -> MIMEMessage.Mailbox? {
        let text: String
        if let subjectID, !subjectID.isEmpty {
            text = pattern.replacingOccurrences(of: "{ref}", with: Self.reference(subjectID))
        } else {
            text = pattern.replacingOccurrences(of: "+{ref}", with: "").replacingOccurrences(of: "{ref}", with: "")
        }
        return MIMEMessage.Mailbox(parsing: text)
    }

    /// An id as the local part of an address can carry it: letters, digits, `.`, `_` and `-`,
    /// at most 40 characters; anything else becomes `-`.
    static func reference(_ id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let cleaned = String(id.prefix(40).map { allowed.contains($0) ? $0 : "-" })
        return cleaned.trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
