import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// A batch's timer changes, folded per timer in the order the events made them and written in
/// at most three statements at the end: a timer started is upserted; one stopped is deleted, on
/// the condition its action gave (a deadline event stops its own timer, never one that replaced
/// it). Nothing in the batch reads the timers table, so writing it last changes nothing else.
struct PostgresTimerChanges {
    enum Change {
        /// Start (or move) the timer, as of the event at `position`.
        case upsert(DeadlineTimer, position: Int64)
        /// Stop the timer the batch started: whatever it was before is replaced, so unconditionally.
        case delete
        /// Stop the timer as the table has it, only while it is due at one of `dueAt` (nil: whenever).
        case deleteStored(dueAt: Set<Double>?)
    }

    private(set) var changes: [TimerKey: Change] = [:]

    struct TimerKey: Hashable {
        var type: String
        var subject: String
    }

    /// Takes one action; returns whether it started a timer (the clock may have to wake sooner).
    @discardableResult
    mutating func apply(_ action: TimerAction, position: Int64) -> Bool {
        switch action {
        case .schedule(let timer):
            changes[TimerKey(type: timer.type, subject: timer.subject)] = .upsert(timer, position: position)
            return true
        case .cancel(let type, let subject, let dueAt):
            let key = TimerKey(type: type, subject: subject)
            switch changes[key] {
            case .upsert(let timer, _):
                if dueAt == nil || timer.dueAt == dueAt { changes[key] = .delete }
            case .delete, .deleteStored(dueAt: nil):
                break  // stopped whatever it was, already in this batch
            case .deleteStored(let dues?):
                // One after the other, the stored timer goes if it was due at any of them.
                changes[key] = .deleteStored(dueAt: dueAt.map { dues.union([$0.timeIntervalSince1970]) })
            case nil:
                changes[key] = .deleteStored(dueAt: dueAt.map { [$0.timeIntervalSince1970] })
            }
            return false
        }
    }

    mutating func write(on connection: PostgresConnection, logger: Logger) async throws {
        defer { changes.removeAll() }
        var upserts: [(DeadlineTimer, Int64)] = []
        var deletes: [TimerKey] = []
        var conditional: [(TimerKey, Double)] = []
        for (key, change) in changes {
            switch change {
            case .upsert(let timer, let position): upserts.append((timer, position))
            case .delete, .deleteStored(dueAt: nil): deletes.append(key)
            case .deleteStored(let dues?): conditional += dues.map { (key, $0) }
            }
        }
        if !deletes.isEmpty {
            try await connection.run("""
                DELETE FROM timers t USING unnest(\(deletes.map(\.type))::text[], \(deletes.map(\.subject))::text[]) AS d(type, subject)
                WHERE t.type = d.type AND t.subject = d.subject
                """, logger: logger)
        }
        if !conditional.isEmpty {
            try await connection.run("""
                DELETE FROM timers t
                USING unnest(\(conditional.map(\.0.type))::text[], \(conditional.map(\.0.subject))::text[], \(conditional.map(\.1))::float8[])
                    AS d(type, subject, due_at)
                WHERE t.type = d.type AND t.subject = d.subject AND t.due_at = d.due_at
                """, logger: logger)
        }
        if !upserts.isEmpty {
            try await connection.run("""
                INSERT INTO timers (type, subject, due_at, scheduled_by)
                SELECT * FROM unnest(\(upserts.map(\.0.type))::text[], \(upserts.map(\.0.subject))::text[],
                                     \(upserts.map(\.0.dueAt.timeIntervalSince1970))::float8[], \(upserts.map(\.1))::int8[])
                ON CONFLICT (type, subject) DO UPDATE SET due_at = excluded.due_at, scheduled_by = excluded.scheduled_by
                """, logger: logger)
        }
    }
}
