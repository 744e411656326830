import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// Deadline timers and the simulated clock on PostgreSQL. Every instance's clock service may
/// fire due timers: each firing deletes the timers it takes (skipping those another instance
/// is firing at that moment) and appends their deadline events in the same transaction, so a
/// timer fires once, and its event (whose id is fixed) is in the log once.
public struct PostgresTimers: TimerStore {
    let log: PostgresLog

    public init(log: PostgresLog) {
        self.log = log
    }

    var backend: PostgresBackend { log.backend }
    var logger: Logger { backend.logger }

    public func fireDueTimers(now: Date, limit: Int) async throws -> TimerFiring {
        try await backend.transaction("firing due deadline timers") { connection in
            let rows = try await connection.run("""
                DELETE FROM timers WHERE (type, subject) IN (
                    SELECT type, subject FROM timers WHERE due_at <= \(now.timeIntervalSince1970)
                    ORDER BY due_at, type, subject LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING type, subject, due_at
                """, logger: logger)
            var timers: [DeadlineTimer] = []
            for try await (type, subject, due) in rows.decode((String, String, Double).self) {
                timers.append(DeadlineTimer(type: type, subject: subject, dueAt: Date(timeIntervalSince1970: due)))
            }
            guard !timers.isEmpty else { return TimerFiring(timers: 0, appended: 0) }
            // In the order they fell due, as on SQLite: their events take positions in this order.
            timers.sort { ($0.dueAt, $0.type, $0.subject) < ($1.dueAt, $1.type, $1.subject) }
            // A deadline of a forgotten customer's order or ticket tells nobody anything: it goes unfired.
            let events = timers.map(\.event)
            let forgotten = try await log.forgotten(among: Array(Set(events.flatMap(PersonalData.entities(of:)))), on: connection)
            let firing = events.filter { event in !PersonalData.entities(of: event).contains { forgotten[$0] != nil } }
            let result = try await log.append(firing, now: now, on: connection)
            if let refusal = result.refusal { throw PostgresBackendError(.writeFailed, "cannot fire deadline timers: \(refusal)") }
            return TimerFiring(timers: timers.count, appended: result.appended)
        }
    }

    public func nextTimer() async throws -> DeadlineTimer? {
        try await backend.connection("reading the next timer") { connection in
            let rows = try await connection.run("SELECT type, subject, due_at FROM timers ORDER BY due_at LIMIT 1", logger: logger)
            for try await (type, subject, due) in rows.decode((String, String, Double).self) {
                return DeadlineTimer(type: type, subject: subject, dueAt: Date(timeIntervalSince1970: due))
            }
            return nil
        }
    }

    public func simulatedTime() async throws -> Date? {
        try await backend.connection("reading the simulated time") { connection in
            for try await now in try await connection.run("SELECT now FROM clock WHERE id = 1", logger: logger).decode(Double.self) {
                return Date(timeIntervalSince1970: now)
            }
            return nil
        }
    }

    public func acknowledgeSimulatedTime(_ time: Date) async throws {
        try await backend.transaction("acknowledging the simulated time") { connection in
            try await connection.run("UPDATE clock SET applied = \(time.timeIntervalSince1970) WHERE id = 1", logger: logger)
        }
    }

    public func appliedSimulatedTime() async throws -> Date? {
        try await backend.connection("reading the applied simulated time") { connection in
            for try await applied in try await connection.run("SELECT applied FROM clock WHERE id = 1", logger: logger).decode(Double?.self) {
                return applied.map(Date.init(timeIntervalSince1970:))
            }
            return nil
        }
    }

    /// Moves the simulated time; it only goes forward.
    public func setSimulatedTime(_ time: Date) async throws {
        try await backend.transaction("setting the simulated time") { connection in
            let t = time.timeIntervalSince1970
            for try await current in try await connection.run("SELECT now FROM clock WHERE id = 1 FOR UPDATE", logger: logger).decode(Double.self)
                where current > t {
                throw PostgresBackendError(.writeFailed, """
                    the simulated time is already \(Timestamp.format(Date(timeIntervalSince1970: current))); it only moves forward
                    """)
            }
            try await connection.run("""
                INSERT INTO clock (id, now) VALUES (1, \(t)) ON CONFLICT (id) DO UPDATE SET now = excluded.now
                """, logger: logger)
        }
    }
}
