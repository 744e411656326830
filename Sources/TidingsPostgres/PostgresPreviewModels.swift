import Foundation
import PostgresNIO
import TidingsCore

/// The read models as PostgreSQL holds them, for `tidings preview`, which stores nothing: a
/// projection is synchronous, so what the events name (their subjects, the orders and
/// customers they refer to, the owners of those) is read first. Anything else counts as
/// not existing.
public struct PostgresPreviewModels: ModelLookup, Sendable {
    var models: PostgresModels

    public static func load(for events: [StoredEvent], backend: PostgresBackend) async throws -> PostgresPreviewModels {
        try await backend.connection("reading the models to preview against") { connection in
            var models = PostgresModels()
            try await models.prefetch(events, on: connection, logger: backend.logger)
            return PostgresPreviewModels(models: models)
        }
    }

    public mutating func customer(_ id: String) throws -> Customer? { models.customers[id] ?? nil }
    public mutating func order(_ id: String) throws -> Order? { models.orders[id] ?? nil }
    public mutating func ticket(_ id: String) throws -> Ticket? { models.tickets[id] ?? nil }
}
