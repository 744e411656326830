import Foundation
import PostgresNIO
import TidingsCore

extension PostgresPipelineRun {
    /// Quarantines an event; one held before keeps what it waits for and counts one more attempt.
    func quarantine(_ key: HeldEvent.Key, reason: String) async throws {
        try await connection.run("""
            INSERT INTO held_events (position, scope, kind, reason, held_at)
            VALUES (\(key.position), \(key.scope), \(HeldEvent.Kind.quarantined.rawValue), \(reason), \(t))
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, held_at = excluded.held_at,
                expires_at = NULL, attempts = held_events.attempts + 1, retry_requested = false
            """, logger: logger)
    }

    /// Whether any event waits for an order or ticket (or was quarantined when its wait ran
    /// out, and still applies when it comes), and whether any message is parked.
    func waitsExist() async throws -> (waiting: Bool, parked: Bool) {
        let rows = try await connection.run("""
            SELECT EXISTS (SELECT 1 FROM held_events WHERE waiting_for IS NOT NULL AND scope = ''),
                EXISTS (SELECT 1 FROM messages WHERE state = \(MessageState.parked.rawValue))
            """, logger: logger)
        for try await (waiting, parked) in rows.decode((Bool, Bool).self) { return (waiting, parked) }
        return (true, true)
    }

    /// Holds an event until its order or ticket exists, or the wait runs out.
    mutating func wait(_ position: Int64, for entity: String, reason: String, until expiry: Date) async throws {
        try await connection.run("""
            INSERT INTO held_events (position, scope, kind, waiting_for, reason, held_at, expires_at)
            VALUES (\(position), '', \(HeldEvent.Kind.waiting.rawValue), \(entity), \(reason), \(t), \(expiry.timeIntervalSince1970))
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, waiting_for = excluded.waiting_for,
                reason = excluded.reason, expires_at = excluded.expires_at, retry_requested = false
            """, logger: logger)
        anyWaiting = true
    }

    /// Applies, in log order, the events that were waiting for this order or ticket (also
    /// those whose wait ran out and that were quarantined for it).
    mutating func releaseWaiting(for entity: String) async throws {
        var positions: [Int64] = []
        let rows = try await connection.run("""
            SELECT position FROM held_events WHERE waiting_for = \(entity) AND scope = '' ORDER BY position
            """, logger: logger)
        for try await position in rows.decode(Int64.self) { positions.append(position) }
        for position in positions {
            try await guarded(HeldEvent.Key(position: position)) { run in
                try await run.connection.run("DELETE FROM held_events WHERE position = \(position) AND scope = ''", logger: run.logger)
                guard let row = try await run.log.events(after: position - 1, limit: 1, on: run.connection).first else { return }
                let stored = try row.get()
                guard stored.position == position else { return }
                try await run.apply(stored)
                run.batch.released += 1
            }
        }
    }

    /// Ends the waits that ran out: parked messages are skipped with the reason, and events
    /// waiting for an order or ticket are quarantined (still released if it comes later).
    mutating func endWaits() async throws {
        let parked = try await connection.run("""
            UPDATE messages SET state = \(MessageState.skipped.rawValue), updated_at = \(t),
                last_error = \(OutboxPlacement.parkExpired.before) || customer_id || \(OutboxPlacement.parkExpired.after)
            WHERE state = \(MessageState.parked.rawValue) AND due_at <= \(t)
            RETURNING id
            """, logger: logger)
        for try await _ in parked.decode(Int64.self) { batch.parkedExpired += 1 }
        let expired = try await connection.run("""
            UPDATE held_events SET kind = \(HeldEvent.Kind.quarantined.rawValue),
                reason = \(HeldEvent.gaveUp) || reason || \(HeldEvent.gaveUpEnd), expires_at = NULL
            WHERE kind = \(HeldEvent.Kind.waiting.rawValue) AND expires_at <= \(t)
            RETURNING position, reason
            """, logger: logger)
        for try await (position, reason) in expired.decode((Int64, String).self) {
            batch.quarantined.append(HeldEvent.Note(key: HeldEvent.Key(position: position), reason: reason))
        }
    }
}
