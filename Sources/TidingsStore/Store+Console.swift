import Foundation
import GRDB
import TidingsCore

extension Store {
    /// A scan of the customers' documents (`ContactSearch`): the console's search is rare, and
    /// an index on addresses would be one more place a forgotten customer's address has to go
    /// from. Searched as text, so one document that is not JSON cannot fail every search
    /// (json_extract would); SQLite's lower() folds ASCII letters only, as `hasContact` does.
    public func customers(withContact contact: String, limit: Int) async throws -> [Customer] {
        try await read("searching customers") { db in
            var search = ContactSearch(contact: contact, limit: limit)
            while let after = search.next {
                search.take(try Row.fetchAll(db, sql: """
                    SELECT id, doc FROM customers WHERE id > ?2 AND instr(lower(CAST(doc AS TEXT)), lower(?1)) > 0 ORDER BY id LIMIT ?3
                    """, arguments: [contact, after, ContactSearch.pageSize]).map { ($0["id"], $0["doc"]) })
            }
            return search.customers
        }
    }

    /// Most recently changed first.
    public func orders(customerID: String, limit: Int) async throws -> [Order] {
        try await read("reading the orders of \(customerID)") { db in
            try Data.fetchAll(db, sql: "SELECT doc FROM orders WHERE customer_id = ? ORDER BY position DESC LIMIT ?",
                              arguments: [customerID, limit]).map { try Order(document: $0) }
        }
    }

    public func tickets(customerID: String, limit: Int) async throws -> [Ticket] {
        try await read("reading the tickets of \(customerID)") { db in
            try Data.fetchAll(db, sql: "SELECT doc FROM tickets WHERE customer_id = ? ORDER BY position DESC LIMIT ?",
                              arguments: [customerID, limit]).map { try Ticket(document: $0) }
        }
    }

    public func acknowledgements(since: Date, limit: Int) async throws -> [ResponseReport.Acknowledgement] {
        try await read("reading acknowledgement times") { db in
            try Row.fetchAll(db, sql: """
                SELECT event_at, sent_at FROM messages
                WHERE category = '\(Workflow.Category.acknowledgement.rawValue)' AND sent_at IS NOT NULL AND event_at >= ?
                ORDER BY id DESC LIMIT ?
                """, arguments: [since.timeIntervalSince1970, limit]).map { row in
                ResponseReport.Acknowledgement(eventAt: Date(timeIntervalSince1970: row[0]), sentAt: Date(timeIntervalSince1970: row[1]))
            }
        }
    }

    public func timers(subjects: [String]) async throws -> [DeadlineTimer] {
        guard !subjects.isEmpty else { return [] }
        return try await read("reading timers") { db in
            try Row.fetchAll(db, sql: """
                SELECT type, subject, due_at FROM timers WHERE subject IN (\(Array(repeating: "?", count: subjects.count).joined(separator: ", ")))
                ORDER BY due_at
                """, arguments: StatementArguments(subjects)).map { row in
                DeadlineTimer(type: row[0], subject: row[1], dueAt: Date(timeIntervalSince1970: row[2]))
            }
        }
    }

    public func heldMessages(customerID: String, after now: Date, limit: Int) async throws -> [HeldMessage] {
        try await read("reading the held messages of \(customerID)") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, workflow, channel, due_at FROM messages
                WHERE customer_id = ? AND state IN \(MessageState.unsent.sqlList) AND due_at > ? ORDER BY due_at LIMIT ?
                """, arguments: [customerID, now.timeIntervalSince1970, limit]).map { row in
                HeldMessage(id: row[0], workflow: row[1], channel: row[2], dueAt: Date(timeIntervalSince1970: row[3]))
            }
        }
    }

    public func recentTickets(limit: Int) async throws -> [Ticket] {
        try await read("reading recent tickets") { db in
            try Data.fetchAll(db, sql: "SELECT doc FROM tickets ORDER BY position DESC LIMIT ?", arguments: [limit]).map { try Ticket(document: $0) }
        }
    }

    public func messageID(key: String) async throws -> Int64? {
        try await read("finding message \(key)") { db in try Int64.fetchOne(db, sql: "SELECT id FROM messages WHERE key = ?", arguments: [key]) }
    }

    public func messageContent(id: Int64) async throws -> MessageContent? {
        try await read("reading message \(id)") { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT template, channel, locale, \(Store.contextOfTheMessage) AS context FROM messages WHERE id = ? AND erased_at IS NULL
                """, arguments: [id]) else {
                return nil
            }
            let context = (try? JSONValue.parse(row["context"] as Data)) ?? .null
            return MessageContent(template: row["template"], channel: (row["channel"] as String?).flatMap(Channel.init(rawValue:)),
                                  locale: row["locale"], context: context)
        }
    }
}
