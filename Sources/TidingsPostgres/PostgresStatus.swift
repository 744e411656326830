import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// The numbers operators watch, read from PostgreSQL: for `/metrics`, `/readyz` and the
/// systemd status line.
public struct PostgresStatus: StatusSource {
    let backend: PostgresBackend

    public init(backend: PostgresBackend) {
        self.backend = backend
    }

    var logger: Logger { backend.logger }

    public func status(now: Date) async throws -> StoreStatus {
        try await backend.connection("reading the status") { connection in
            var outbox: [MessageState: [String: Int]] = [:]
            for try await (name, channel, count) in try await connection.run("""
                SELECT state, COALESCE(channel, '-'), COUNT(*) FROM messages GROUP BY 1, 2
                """, logger: logger).decode((String, String, Int64).self) {
                guard let state = MessageState(rawValue: name) else { continue }
                outbox[state, default: [:]][channel] = Int(count)
            }
            var held: [HeldEvent.Kind: Int] = [:]
            for try await (name, count) in try await connection.run("SELECT kind, COUNT(*) FROM held_events GROUP BY kind", logger: logger)
                .decode((String, Int64).self) {
                if let kind = HeldEvent.Kind(rawValue: name) { held[kind] = Int(count) }
            }
            let t = now.timeIntervalSince1970
            let rows = try await connection.run("""
                SELECT (SELECT COALESCE(MAX(position), 0) FROM events),
                    (SELECT COALESCE(MAX(position), 0) FROM checkpoints WHERE name = \(PostgresPipelineRun.checkpointName)),
                    (SELECT COUNT(*) FROM messages WHERE state = \(MessageState.sending.rawValue)
                        OR (state IN \(unescaped: MessageState.unsent.sqlList) AND due_at <= \(t))),
                    (SELECT COUNT(*) FROM timers), (SELECT COUNT(*) FROM timers WHERE due_at <= \(t)), (SELECT COUNT(*) FROM fanout),
                    (SELECT COUNT(*) FROM events WHERE position IS NULL)
                """, logger: logger)
            var status = StoreStatus(head: 0, checkpoint: 0, outbox: outbox, busy: 0, held: held)
            for try await (head, checkpoint, busy, timers, due, fanout, unsequenced) in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
                status.head = head
                status.checkpoint = checkpoint
                status.busy = Int(busy)
                status.timers = Int(timers)
                status.timersDue = Int(due)
                status.fanoutPending = Int(fanout)
                // Events committed but not given their positions yet: not read yet, as a staged append's.
                status.appending = Int(unsequenced)
            }
            return status
        }
    }

    /// A write transaction that does nothing, given two seconds: a lost connection or a
    /// database that cannot take writes answers false, never hangs the caller (`answer(within:)`).
    public func isWritable() async -> Bool {
        let writable = try? await answer(within: .seconds(2)) {
            try await backend.transaction("checking the database takes writes") { connection in
                try await connection.run("SELECT txid_current()", logger: logger)
            }
            return true
        }
        return writable == true
    }
}
