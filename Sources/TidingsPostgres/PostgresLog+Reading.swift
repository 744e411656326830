import Foundation
import PostgresNIO
import TidingsCore

extension PostgresLog {
    /// Gives positions to up to `limit` committed events that have none, in entry order, after
    /// the highest position so far; returns how many. One sequencer at a time, whichever
    /// instance runs it (see the type's comment for why this keeps readers from skipping).
    @discardableResult
    public func sequence(limit: Int = 10_000) async throws -> Int {
        try await backend.transaction("giving the log's new events their positions") { connection in
            // The lock first, in a statement of its own: the update's snapshot, taken after it,
            // then sees the last sequencer's positions (READ COMMITTED: a snapshot per statement).
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.sequencer.rawValue))", logger: logger)
            let rows = try await connection.run("""
                WITH top AS (SELECT COALESCE(MAX(position), 0) AS position FROM events),
                next AS (
                    SELECT entry, row_number() OVER (ORDER BY entry) AS n FROM (
                        SELECT entry FROM events WHERE position IS NULL ORDER BY entry LIMIT \(limit)
                    ) waiting
                )
                UPDATE events e SET position = top.position + next.n FROM next, top WHERE e.entry = next.entry
                RETURNING e.entry
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            return count
        }
    }

    /// The last position given, 0 for an empty log.
    public func head() async throws -> Int64 {
        try await backend.connection("reading the log head") { connection in
            var head: Int64 = 0
            for try await position in try await connection.run("SELECT COALESCE(MAX(position), 0) FROM events", logger: logger)
                .decode(Int64.self) { head = position }
            return head
        }
    }

    /// Events after a position, oldest first, each decoded on its own: an unreadable one is
    /// returned as a failure, so its neighbours stay readable.
    public func events(after position: Int64, limit: Int) async throws -> [Result<StoredEvent, PostgresBackendError>] {
        try await backend.connection("reading events") { connection in try await events(after: position, limit: limit, on: connection) }
    }

    func events(after position: Int64, limit: Int, on connection: PostgresConnection) async throws -> [Result<StoredEvent, PostgresBackendError>] {
        let rows = try await connection.run("""
            SELECT e.position, e.recorded_at, e.body, e.sealed_for, k.key FROM events e
            LEFT JOIN customer_keys k ON k.customer_id = e.sealed_for
            WHERE e.position > \(position) ORDER BY e.position LIMIT \(limit)
            """, logger: logger)
        var events: [Result<StoredEvent, PostgresBackendError>] = []
        for try await (position, recordedAt, body, sealedFor, key) in rows.decode((Int64, Double, Data, String?, Data?).self) {
            if let event = StoredEvent(position: position, recordedAt: Date(timeIntervalSince1970: recordedAt), body: body,
                                       sealedFor: sealedFor, key: key) {
                events.append(.success(event))
            } else {
                events.append(.failure(PostgresBackendError(.unreadableEvent, """
                    the event at position \(position) is not a readable CloudEvent (its stored body is not a JSON event object)
                    """)))
            }
        }
        return events
    }
}
