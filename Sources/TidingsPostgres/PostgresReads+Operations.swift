import Foundation
import PostgresNIO
import TidingsCore

/// What `tidings deliveries show` and `tidings endpoints` ask, on PostgreSQL.
extension PostgresReads {
    public func attempts(messageID: Int64) async throws -> [AttemptSummary] {
        let sql = AttemptSummary.historySQL.replacingOccurrences(of: "?1", with: "$1")
        var binds = PostgresBindings()
        binds.append(messageID)
        return try await backend.connection("reading the history of message \(messageID)") { connection in
            var attempts: [AttemptSummary] = []
            let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (attempt, channel, at, outcome, detail, _) in rows.decode((Int, String, Double, String, String?, Int).self) {
                attempts.append(AttemptSummary(attempt: attempt, channel: channel, at: Date(timeIntervalSince1970: at), outcome: outcome,
                                               detail: detail))
            }
            return attempts
        }
    }

    public func disabledEndpoints() async throws -> [DisabledEndpoint] {
        try await backend.connection("listing disabled endpoints") { connection in
            var disabled: [DisabledEndpoint] = []
            let rows = try await connection.run("SELECT channel, target, disabled_at, reason FROM endpoints ORDER BY channel, target",
                                                  logger: logger)
            for try await (name, target, since, reason) in rows.decode((String, String, Double, String).self) {
                // A channel a newer Tidings knows: listed by that version, not this one.
                guard let channel = Channel(rawValue: name) else { continue }
                disabled.append(DisabledEndpoint(channel: channel, target: target, since: Date(timeIntervalSince1970: since), reason: reason))
            }
            return disabled
        }
    }

    public func enableEndpoints(channel: TidingsCore.Channel, now: Date, by actor: OperatorAction.Actor) async throws -> Int {
        try await backend.transaction("enabling the \(channel.rawValue) endpoint") { connection in
            var count = 0
            for try await _ in try await connection.run("DELETE FROM endpoints WHERE channel = \(channel.rawValue) RETURNING 1", logger: logger)
                .decode(Int.self) { count += 1 }
            try await record(OperatorAction(at: now, actor: actor, kind: .enableEndpoints, target: channel.rawValue, affected: count), on: connection)
            return count
        }
    }
}

extension PostgresReads {
    /// Written in the transaction of the action's effect: recorded if and only if it happened.
    func record(_ action: OperatorAction, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO operator_actions (at, via, actor, kind, target, affected)
            VALUES (\(action.at.timeIntervalSince1970), \(action.actor.via.rawValue), \(action.actor.name), \(action.kind.rawValue), \(action.target),
                    \(Int64(action.affected)))
            """, logger: logger)
    }

    /// Newest first; a row of a kind or door this version does not know is an error.
    public func operatorActions(limit: Int) async throws -> [OperatorAction] {
        try await backend.connection("reading operator actions") { connection in
            var actions: [OperatorAction] = []
            let rows = try await connection.run("SELECT at, via, actor, kind, target, affected FROM operator_actions ORDER BY id DESC LIMIT \(limit)",
                                                logger: logger)
            for try await (at, via, actor, kind, target, affected) in rows.decode((Double, String, String, String, String, Int64).self) {
                guard let action = OperatorAction(at: at, via: via, actor: actor, kind: kind, target: target, affected: Int(affected)) else {
                    throw PostgresBackendError(.readFailed, OperatorAction.unknownRow(via: via, kind: kind))
                }
                actions.append(action)
            }
            return actions
        }
    }
}
