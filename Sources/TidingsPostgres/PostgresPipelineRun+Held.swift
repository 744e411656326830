import Foundation
import PostgresNIO
import TidingsCore

extension PostgresPipelineRun {
    /// Quarantines an event; one held before keeps what it waits for and counts one more attempt.
    func quarantine(_ key: HeldEvent.Key, reason: String) async throws {
        try await connection.query("""
            INSERT INTO held_events (position, scope, kind, reason, held_at)
            VALUES (\(key.position), \(key.scope), \(HeldEvent.Kind.quarantined.rawValue), \(reason), \(t))
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, held_at = excluded.held_at,
                expires_at = NULL, attempts = held_events.attempts + 1, retry_requested = false
            """, logger: logger)
    }

    /// Holds an event until its order or ticket exists, or the wait runs out.
    func wait(_ position: Int64, for entity: String, reason: String, until expiry: Date) async throws {
        try await connection.query("""
            INSERT INTO held_events (position, scope, kind, waiting_for, reason, held_at, expires_at)
            VALUES (\(position), '', \(HeldEvent.Kind.waiting.rawValue), \(entity), \(reason), \(t), \(expiry.timeIntervalSince1970))
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, waiting_for = excluded.waiting_for,
                reason = excluded.reason, expires_at = excluded.expires_at, retry_requested = false
            """, logger: logger)
    }

    /// Applies, in log order, the events that were waiting for this order or ticket (also
    /// those whose wait ran out and that were quarantined for it).
    mutating func releaseWaiting(for entity: String) async throws {
        var positions: [Int64] = []
        let rows = try await connection.query("""
            SELECT position FROM held_events WHERE waiting_for = \(entity) AND scope = '' ORDER BY position
            """, logger: logger)
        for try await position in rows.decode(Int64.self) { positions.append(position) }
        for position in positions {
            try await guarded(HeldEvent.Key(position: position)) { run in
                try await run.connection.query("DELETE FROM held_events WHERE position = \(position) AND scope = ''", logger: run.logger)
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
        let parked = try await connection.query("""
            UPDATE messages SET state = \(MessageState.skipped.rawValue), updated_at = \(t),
                last_error = \(OutboxPlacement.parkExpired.before) || customer_id || \(OutboxPlacement.parkExpired.after)
            WHERE state = \(MessageState.parked.rawValue) AND due_at <= \(t)
            RETURNING id
            """, logger: logger)
        for try await _ in parked.decode(Int64.self) { batch.parkedExpired += 1 }
        let expired = try await connection.query("""
            UPDATE held_events SET kind = \(HeldEvent.Kind.quarantined.rawValue),
                reason = \(HeldEvent.gaveUp) || reason || \(HeldEvent.gaveUpEnd), expires_at = NULL
            WHERE kind = \(HeldEvent.Kind.waiting.rawValue) AND expires_at <= \(t)
            RETURNING position, reason
            """, logger: logger)
        for try await (position, reason) in expired.decode((Int64, String).self) {
            batch.quarantined.append(HeldEvent.Note(key: HeldEvent.Key(position: position), reason: reason))
        }
    }

    /// Starts or stops a timer with the event that does it; returns whether one was started.
    func schedule(_ action: TimerAction, position: Int64) async throws -> Bool {
        switch action {
        case .schedule(let timer):
            try await connection.query("""
                INSERT INTO timers (type, subject, due_at, scheduled_by) VALUES (\(timer.type), \(timer.subject), \(timer.dueAt.timeIntervalSince1970), \(position))
                ON CONFLICT (type, subject) DO UPDATE SET due_at = excluded.due_at, scheduled_by = excluded.scheduled_by
                """, logger: logger)
            return true
        case .cancel(let type, let subject, let dueAt):
            if let dueAt {
                try await connection.query("""
                    DELETE FROM timers WHERE type = \(type) AND subject = \(subject) AND due_at = \(dueAt.timeIntervalSince1970)
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM timers WHERE type = \(type) AND subject = \(subject)", logger: logger)
            }
            return false
        }
    }
}
