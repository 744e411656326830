import Foundation

/// The console's search by address, page by page, the same on every store: the store reads
/// the customers whose document contains the address as text (ASCII letters folded), by id
/// after `next`, and hands each page to `take`; `Customer.hasContact` decides. A document
/// that does not read is no match, so one damaged row cannot fail every search.
public struct ContactSearch {
    /// Candidates read at a time: a document that merely contains the text ("joann@…" for
    /// "ann@…") is one too.
    public static let pageSize = 500
    /// At most this many pages: text found in more than 10,000 documents (a fragment such as
    /// `example.com`) is not an address, and one search must not read the whole table.
    public static let maxPages = 20

    public let contact: String
    public let limit: Int
    /// The id to read after next; nil once the search is done.
    public private(set) var next: String? = ""
    private var found: [Customer] = []
    private var pages = 0

    public init(contact: String, limit: Int) {
        self.contact = contact
        self.limit = limit
    }

    /// One page of candidates, in id order, as the store read them.
    public mutating func take(_ rows: [(id: String, document: Data)]) {
        pages += 1
        for row in rows {
            if let customer = try? Customer(document: row.document), customer.hasContact(contact) { found.append(customer) }
        }
        let more = rows.count == Self.pageSize && pages < Self.maxPages && found.count < limit
        next = more ? rows.last?.id : nil
    }

    public var customers: [Customer] { Array(found.prefix(limit)) }
}
