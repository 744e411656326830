import Foundation
import PostgresNIO
import TidingsCore

/// `tidings events retry` on PostgreSQL: an operator marks held events, and whichever runs
/// first (the command itself, or any instance's pipeline) applies each, out of log order, in
/// a transaction of its own that waits for the pipeline's lock.
extension PostgresPipeline {
    /// Marks one position (its event, and any fan-out orders held under it), or every
    /// quarantined event, to be applied again. Returns how many were marked.
    public func requestRetry(position: Int64?) async throws -> Int {
        try await backend.transaction("marking held events for a retry") { connection in
            var count = 0
            for try await _ in try await connection.run("""
                UPDATE held_events SET retry_requested = true
                WHERE (\(position)::int8 IS NULL AND kind = \(HeldEvent.Kind.quarantined.rawValue)) OR position = \(position)
                RETURNING position
                """, logger: logger).decode(Int64.self) { count += 1 }
            return count
        }
    }

    /// Applies every held event an operator asked to retry. One that fails again stays
    /// quarantined with the new reason; one another process applied meanwhile is left alone.
    public func retryRequested(engine: WorkflowEngine, now: @escaping @Sendable () -> Date) async throws -> [HeldRetry] {
        let keys = try await backend.connection("reading requested retries") { connection in
            var keys: [HeldEvent.Key] = []
            for try await (position, scope) in try await connection.run("""
                SELECT position, scope FROM held_events WHERE retry_requested ORDER BY position, scope
                """, logger: logger).decode((Int64, String).self) {
                keys.append(HeldEvent.Key(position: position, order: scope.isEmpty ? nil : scope))
            }
            return keys
        }
        var outcomes: [HeldRetry] = []
        for key in keys {
            do {
                let applied = try await backend.transaction("retrying the held event at position \(key.position)") { connection in
                    try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.pipeline.rawValue))", logger: logger)
                    var run = PostgresPipelineRun(connection: connection, log: log, engine: engine, now: now(), setAside: [:])
                    return try await run.reapply(key)
                }
                if applied { outcomes.append(HeldRetry(key: key, failure: nil)) }
            } catch let failure as EventFailure {
                try await backend.transaction("quarantining the event at position \(key.position) again") { connection in
                    let run = PostgresPipelineRun(connection: connection, log: log, engine: engine, now: now(), setAside: [:])
                    try await run.quarantine(failure.key, reason: failure.reason)
                    if failure.key != key {
                        try await connection.run("""
                            UPDATE held_events SET retry_requested = false WHERE position = \(key.position) AND scope = \(key.scope)
                            """, logger: logger)
                    }
                }
                outcomes.append(HeldRetry(key: key, failure: failure.reason))
            }
        }
        return outcomes
    }
}

extension PostgresPipelineRun {
    /// Applies one held event again, as `PipelineRun.reapply` does on SQLite: an order held
    /// under a disruption is told now; an event is applied as the models stand. False when it
    /// is no longer asked for (another process applied it first).
    mutating func reapply(_ key: HeldEvent.Key) async throws -> Bool {
        var asked = false
        for try await _ in try await connection.run("""
            DELETE FROM held_events WHERE position = \(key.position) AND scope = \(key.scope) AND retry_requested RETURNING position
            """, logger: logger).decode(Int64.self) { asked = true }
        guard asked else { return false }
        if let orderID = key.order {
            // Queued again for the fan-out and told now; an order closed or gone meanwhile has
            // nothing to be told, and its queue entry must not stay behind (it would keep the
            // fan-out pending for good): it stays quarantined, saying so.
            try await connection.run("""
                INSERT INTO fanout (event_position, order_id) VALUES (\(key.position), \(orderID)) ON CONFLICT DO NOTHING
                """, logger: logger)
            try await alert([(key.position, orderID)])
            var left = false
            for try await _ in try await connection.run("""
                DELETE FROM fanout WHERE event_position = \(key.position) AND order_id = \(orderID) RETURNING order_id
                """, logger: logger).decode(String.self) { left = true }
            if left {
                throw EventFailure(key: key, reason: "not told: order \(orderID) is no longer open to a disruption (or no longer exists)")
            }
        } else {
            guard let row = try await log.events(after: key.position - 1, limit: 1, on: connection).first else {
                throw EventFailure(key: key, reason: "there is no event at position \(key.position)")
            }
            try await guarded(key) { run in
                let stored = try row.get()
                guard stored.position == key.position else {
                    throw EventFailure(key: key, reason: "there is no event at position \(key.position)")
                }
                // Applied now, it would bring back what a forget took away: it stays quarantined, saying why.
                if stored.event.type != PersonalData.forgottenType,
                   let customer = try await run.log.forgotten(among: PersonalData.entities(of: stored.event), on: run.connection).values.first {
                    throw EventFailure(key: key, reason: "not applied: its customer \(customer) was forgotten (tidings forget)")
                }
                try await run.apply(stored)
            }
        }
        try await models.flush(on: connection, logger: logger)
        try await timerChanges.write(on: connection, logger: logger)
        return true
    }
}
