import Foundation
import TidingsCore

/// Where a customer's reply to an email goes (`email.reply_to`), with the order or ticket it is
/// about in the address: `Northwind Help <help+{ref}@northwind.example>` becomes
/// `help+t-9001@northwind.example` for a message about ticket t-9001, so the team's mailbox
/// sees what a reply is about. Without an order or ticket, `+{ref}` is left out.
public struct ReplyAddress: Sendable, Hashable {
    public let pattern: String
    /// The pattern cut at each `{ref}`, and its mailbox without a reference: worked out once,
    /// not for every email.
    let pieces: [String]
    let withoutReference: MIMEMessage.Mailbox?
    /// The pattern's name and address cut at each `{ref}`, when the pattern parses with `{ref}`
    /// in place. A reference (letters, digits, `.`, `_`, `-`) cannot move the brackets,
    /// quotes or spaces that parsing looks for, so filling these in gives what parsing the
    /// filled-in pattern gives, without parsing it for every email.
    let namePieces: [String]?
    let addressPieces: [String]?

    /// Nil when the pattern does not make a valid mailbox.
    public init?(pattern: String) {
        self.pattern = pattern
        pieces = pattern.components(separatedBy: "{ref}")
        withoutReference = MIMEMessage.Mailbox(parsing: pattern.replacing("+{ref}", with: "").replacing("{ref}", with: ""))
        let parsed = MIMEMessage.Mailbox(parsing: pattern)
        namePieces = parsed?.name?.components(separatedBy: "{ref}")
        addressPieces = parsed?.address.components(separatedBy: "{ref}")
        guard mailbox(for: "t-1") != nil, withoutReference != nil else { return nil }
    }

    public func mailbox(for subjectID: String?) -> MIMEMessage.Mailbox? {
        guard let subjectID, !subjectID.isEmpty else { return withoutReference }
        let reference = Self.reference(subjectID)
        guard let addressPieces, !reference.isEmpty else {
            return MIMEMessage.Mailbox(parsing: pieces.joined(separator: reference))
        }
        let address = addressPieces.joined(separator: reference)
        guard EmailAddress.isValid(address) else { return nil }
        return MIMEMessage.Mailbox(name: namePieces?.joined(separator: reference), address: address)
    }

    /// An id as the local part of an address can carry it: letters, digits, `.`, `_` and `-`,
    /// at most 40 characters; anything else becomes `-`. Leading and trailing dots go.
    static func reference(_ id: String) -> String {
        var cleaned = ""
        for character in id.prefix(40) {
            let allowed = character.utf8.count == 1 && character.utf8.first.map { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    return true
                default:
                    return false
                }
            } == true
            cleaned.append(allowed ? character : "-")
        }
        return String(cleaned.trimming { $0 == "." })
    }
}
