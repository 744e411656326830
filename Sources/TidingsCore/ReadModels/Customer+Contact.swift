import Foundation

extension Customer {
    /// The console's search by address: the email without regard to ASCII case, or the phone
    /// as stored. The stores find candidates by text and this decides.
    public func hasContact(_ contact: String) -> Bool {
        if let email, Self.asciiLowercased(email) == Self.asciiLowercased(contact) { return true }
        return phone == contact
    }

    /// How many candidates a store reads at a time, by id, until it has found enough: a
    /// document that merely contains the text ("joann@…" for "ann@…") is a candidate too.
    public static let contactPage = 500
    /// At most this many pages: text found in more than 10,000 documents (a fragment such as
    /// `example.com`) is not an address, and one search must not read the whole table.
    public static let contactPages = 20

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
