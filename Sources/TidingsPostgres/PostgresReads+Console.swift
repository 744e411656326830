import Foundation
import PostgresNIO
import TidingsCore

extension PostgresReads {
    /// A scan of the customers' documents, as on SQLite (`Store.customers(withContact:)`).
    public func customers(withContact contact: String, limit: Int) async throws -> [Customer] {
        try await documents("searching customers", """
            SELECT doc FROM customers
            WHERE lower(convert_from(doc, 'UTF8')::jsonb ->> 'email') = lower($1) OR convert_from(doc, 'UTF8')::jsonb ->> 'phone' = $1
            ORDER BY id LIMIT \(limit)
            """, contact).map { try Customer(document: $0) }
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

    public func messageContent(id: Int64) async throws -> MessageContent? {
        try await backend.connection("reading message \(id)") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT template, channel, locale, context FROM messages WHERE id = $1",
                                                              binds: PostgresBindings.of(id)), logger: logger)
            for try await (template, channel, locale, context) in rows.decode((String, String?, String, Data).self) {
                return MessageContent(template: template, channel: channel.flatMap(Channel.init(rawValue:)), locale: locale,
                                      context: (try? JSONValue.parse(context)) ?? .null)
            }
            return nil
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
