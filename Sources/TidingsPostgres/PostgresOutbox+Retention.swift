import Foundation
import PostgresNIO
import TidingsCore

extension PostgresOutbox: ContentRetention {
    /// `outbox.retention` on PostgreSQL: as on SQLite, oldest first through `messages_retained`.
    /// Rows another instance's sweep holds are skipped, not waited for.
    public func eraseContents(endedBefore cutoff: Date, limit: Int, now: Date) async throws -> [String] {
        try await backend.transaction("dropping the contents of old messages") { connection in
            var keys: [String] = []
            for try await key in try await connection.run("""
                UPDATE messages SET context = convert_to('{}', 'UTF8'), erased_at = \(now.timeIntervalSince1970)
                WHERE id IN (
                    SELECT id FROM messages WHERE state = ANY(\(Retention.endedStates.map(\.rawValue))::text[]) AND erased_at IS NULL
                        AND updated_at < \(cutoff.timeIntervalSince1970)
                    ORDER BY updated_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING key
                """, logger: logger).decode(String.self) { keys.append(key) }
            return keys
        }
    }
}
