import Foundation
import PostgresNIO
import TidingsCore

/// `tidings replay --dry-run` on PostgreSQL: the same reads as on SQLite, nothing written.
extension PostgresPipeline: DryRunSource {
    public func positions(recordedFrom since: Date?, until: Date?) async throws -> ClosedRange<Int64>? {
        try await backend.connection("reading the log's range") { connection in
            for try await (low, high) in try await connection.run("""
                SELECT MIN(position), MAX(position) FROM events
                WHERE position IS NOT NULL AND recorded_at >= \(since?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude)
                    AND recorded_at < \(until?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude)
                """, logger: logger).decode((Int64?, Int64?).self) {
                guard let low, let high else { return nil }
                return low...high
            }
            return nil
        }
    }

    public func failedEvents() async throws -> Set<HeldEvent.Key> {
        try await backend.connection("reading the quarantined events") { connection in try await Self.failedKeys(on: connection, logger: logger) }
    }

    /// Events (or one order of a disruption) quarantined because they failed: a replay passes
    /// them over, as the pipeline did. Not those quarantined only because their wait ran out:
    /// they still apply when their order or ticket comes.
    static func failedKeys(on connection: PostgresConnection, logger: Logger) async throws -> Set<HeldEvent.Key> {
        var keys: Set<HeldEvent.Key> = []
        for try await (position, scope) in try await connection.run("""
            SELECT position, scope FROM held_events WHERE kind = \(HeldEvent.Kind.quarantined.rawValue)
                AND (waiting_for IS NULL OR reason NOT LIKE \(HeldEvent.gaveUp + "%"))
            """, logger: logger).decode((Int64, String).self) {
            keys.insert(HeldEvent.Key(position: position, order: scope.isEmpty ? nil : scope))
        }
        return keys
    }

    public func forgottenCustomers() async throws -> Set<String> {
        try await texts("reading the forgotten customers", "SELECT customer_id FROM forgotten WHERE entity = 'customer:' || customer_id")
    }

    public func erasedKeys(positions: ClosedRange<Int64>) async throws -> Set<String> {
        try await texts("reading the erased messages", """
            SELECT key FROM messages WHERE event_position BETWEEN \(positions.lowerBound) AND \(positions.upperBound) AND erased_at IS NOT NULL
            """)
    }

    func texts(_ what: String, _ query: PostgresQuery) async throws -> Set<String> {
        try await backend.connection(what) { connection in
            var texts: Set<String> = []
            for try await text in try await connection.run(query, logger: logger).decode(String.self) { texts.insert(text) }
            return texts
        }
    }

    public func decidedMessages(positions: ClosedRange<Int64>) async throws -> [DecidedRow] {
        try await backend.connection("reading the outbox") { connection in
            var rows: [DecidedRow] = []
            for try await (key, workflow, channel, recipient, template, locale, context) in try await connection.run("""
                SELECT key, workflow, channel, recipient, template, locale, context FROM messages
                WHERE event_position BETWEEN \(positions.lowerBound) AND \(positions.upperBound) AND channel IS NOT NULL
                    AND state NOT IN \(unescaped: [MessageState.skipped, .parked].sqlList) AND erased_at IS NULL
                ORDER BY key
                """, logger: logger).decode((String, String, String, String?, String, String, Data).self) {
                // A channel a newer Tidings knows: this one cannot render it, nor compare it.
                guard let channel = Channel(rawValue: channel) else { continue }
                rows.append(DecidedRow(key: key, workflow: workflow, channel: channel, recipient: recipient, template: template, locale: locale,
                                       context: context))
            }
            return rows
        }
    }

    public func replay(_ replay: inout Replay, through target: Int64, now: Date, each: (Int64, [NotificationIntent]) throws -> Void) async throws {
        var after: Int64 = 0
        while after < target {
            let page = try await backend.connection("reading the log") { connection in
                try await log.events(after: after, limit: Int(min(2_000, target - after)), on: connection)
            }
            guard !page.isEmpty else { break }
            for (index, result) in page.enumerated() {
                let position = after + Int64(index) + 1
                // One the pipeline quarantined is not even decoded: it may be why.
                guard !replay.skipping.contains(HeldEvent.Key(position: position)) else {
                    try each(position, [])
                    continue
                }
                try each(position, try replay.apply(try result.get(), now: now))
            }
            after += Int64(page.count)
        }
    }
}
