import Foundation
import GRDB
import TidingsCore

extension Store: ContentRetention {
    public func eraseContents(endedBefore cutoff: Date, limit: Int, now: Date) async throws -> [String] {
        try await write("dropping the contents of old messages") { db in
            // Oldest first through `messages_retained`, which holds only what is still to do, so
            // a sweep never walks over what earlier ones erased.
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, key FROM messages INDEXED BY messages_retained
                WHERE \(Retention.endedStates.sqlAnyOf("state")) AND erased_at IS NULL AND updated_at < ?
                ORDER BY updated_at LIMIT ?
                """), arguments: [cutoff.timeIntervalSince1970, limit])
            let erase = try db.cachedStatement(sql: "UPDATE messages SET erased_at = ? WHERE id = ?")
            let drop = try db.cachedStatement(sql: "UPDATE message_contexts SET context = \(Store.erasedContext) WHERE message_id = ?")
            for row in rows {
                let id: Int64 = row["id"]
                try erase.execute(arguments: [now.timeIntervalSince1970, id])
                try drop.execute(arguments: [id])
            }
            return rows.map { $0["key"] }
        }
    }

    /// The keys of messages, for the events in `positions`, whose contents were dropped.
    public func erasedKeys(positions: ClosedRange<Int64>) throws -> Set<String> {
        try read("reading the erased messages") { db in
            Set(try String.fetchAll(db, sql: """
                SELECT key FROM messages WHERE event_position BETWEEN ? AND ? AND erased_at IS NOT NULL
                """, arguments: [positions.lowerBound, positions.upperBound]))
        }
    }
}
