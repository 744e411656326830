import Foundation
import PostgresNIO
import TidingsCore

extension PostgresReads {
    /// A scan of the customers' documents as text (`ContactSearch`), as on SQLite: a document
    /// that is not JSON fails no search. Both sides are bytes with ASCII letters
    /// lowered by `translate` (whatever the database's locale) through `encode(..., 'escape')`,
    /// which any bytes survive: one that is not UTF-8 cannot fail it either, and the case rule
    /// is `hasContact`'s, ASCII only.
    public func customers(withContact contact: String, limit: Int) async throws -> [Customer] {
        func lowered(_ bytes: String) -> String {
            "decode(translate(encode(\(bytes), 'escape'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'escape')"
        }
        let sql = """
            SELECT id, doc FROM customers WHERE id > $2 AND position(\(lowered("convert_to($1, 'UTF8')")) IN \(lowered("doc"))) > 0
            ORDER BY id LIMIT \(ContactSearch.pageSize)
            """
        return try await backend.connection("searching customers") { connection in
            var search = ContactSearch(contact: contact, limit: limit)
            while let after = search.next {
                var rows: [(id: String, document: Data)] = []
                for try await row in try await connection.run(PostgresQuery(unsafeSQL: sql, binds: PostgresBindings.of(contact, after)), logger: logger)
                    .decode((String, Data).self) { rows.append(row) }
                search.take(rows)
            }
            return search.customers
        }
    }

    public func orders(customerID: String, limit: Int) async throws -> [Order] {
        try await documents("reading the orders of \(customerID)",
                            "SELECT doc FROM orders WHERE customer_id = $1 ORDER BY position DESC LIMIT \(limit)", customerID)
            .map { try Order(document: $0) }
    }

    public func tickets(customerID: String, limit: Int) async throws -> [Ticket] {
        try await documents("reading the tickets of \(customerID)",
                            "SELECT doc FROM tickets WHERE customer_id = $1 ORDER BY position DESC LIMIT \(limit)", customerID)
            .map { try Ticket(document: $0) }
    }

    public func messageID(key: String) async throws -> Int64? {
        try await backend.connection("finding message \(key)") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT id FROM messages WHERE key = $1", binds: PostgresBindings.of(key)),
                                                logger: logger)
            for try await id in rows.decode(Int64.self) { return id }
            return nil
        }
    }

    public func messageContent(id: Int64) async throws -> MessageContent? {
        try await backend.connection("reading message \(id)") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT template, channel, locale, context FROM messages WHERE id = $1 AND erased_at IS NULL",
                                                              binds: PostgresBindings.of(id)), logger: logger)
            for try await (template, channel, locale, context) in rows.decode((String, String?, String, Data).self) {
                return MessageContent(template: template, channel: channel.flatMap(Channel.init(rawValue:)), locale: locale,
                                      context: (try? JSONValue.parse(context)) ?? .null)
            }
            return nil
        }
    }

    public func acknowledgements(since: Date, limit: Int) async throws -> [ResponseReport.Acknowledgement] {
        try await backend.connection("reading acknowledgement times") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: """
                SELECT event_at, sent_at FROM messages
                WHERE category = '\(Workflow.Category.acknowledgement.rawValue)' AND sent_at IS NOT NULL AND event_at >= $1
                ORDER BY id DESC LIMIT \(limit)
                """, binds: PostgresBindings.of(since.timeIntervalSince1970)), logger: logger)
            var samples: [ResponseReport.Acknowledgement] = []
            for try await (eventAt, sentAt) in rows.decode((Double, Double).self) {
                samples.append(ResponseReport.Acknowledgement(eventAt: Date(timeIntervalSince1970: eventAt), sentAt: Date(timeIntervalSince1970: sentAt)))
            }
            return samples
        }
    }

    public func timers(subjects: [String]) async throws -> [DeadlineTimer] {
        guard !subjects.isEmpty else { return [] }
        return try await backend.connection("reading timers") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT type, subject, due_at FROM timers WHERE subject = ANY($1) ORDER BY due_at",
                                                              binds: PostgresBindings.of(subjects)), logger: logger)
            var timers: [DeadlineTimer] = []
            for try await (type, subject, due) in rows.decode((String, String, Double).self) {
                timers.append(DeadlineTimer(type: type, subject: subject, dueAt: Date(timeIntervalSince1970: due)))
            }
            return timers
        }
    }

    public func heldMessages(customerID: String, after now: Date, limit: Int) async throws -> [HeldMessage] {
        try await backend.connection("reading the held messages of \(customerID)") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: """
                SELECT id, workflow, channel, due_at FROM messages
                WHERE customer_id = $1 AND state IN \(MessageState.unsent.sqlList) AND due_at > $2 ORDER BY due_at LIMIT \(limit)
                """, binds: PostgresBindings.of(customerID, now.timeIntervalSince1970)), logger: logger)
            var held: [HeldMessage] = []
            for try await (id, workflow, channel, due) in rows.decode((Int64, String, String?, Double).self) {
                held.append(HeldMessage(id: id, workflow: workflow, channel: channel, dueAt: Date(timeIntervalSince1970: due)))
            }
            return held
        }
    }

    public func recentTickets(limit: Int) async throws -> [Ticket] {
        try await backend.connection("reading recent tickets") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT doc FROM tickets ORDER BY position DESC LIMIT \(limit)"), logger: logger)
            var tickets: [Ticket] = []
            for try await doc in rows.decode(Data.self) { tickets.append(try Ticket(document: doc)) }
            return tickets
        }
    }

    private func documents(_ what: String, _ sql: String, _ value: String) async throws -> [Data] {
        try await backend.connection(what) { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: PostgresBindings.of(value)), logger: logger)
            var documents: [Data] = []
            for try await doc in rows.decode(Data.self) { documents.append(doc) }
            return documents
        }
    }
}
