import Foundation
import GRDB
import TidingsCore

extension Store {
    /// The messages given a channel for the events in `positions` (all of them when nil), as a
    /// dry run compares them: what the workflows decided, whatever became of it since. Those
    /// whose contents were dropped (a forgotten customer's, or by `outbox.retention`) are left
    /// out: nothing of what they said is left to compare.
    public func decidedMessages(positions: ClosedRange<Int64>) throws -> [DecidedRow] {
        try read("reading the outbox") { db in
            try Row.fetchAll(db, sql: """
                SELECT key, workflow, channel, recipient, template, locale, \(Store.contextOfTheMessage) AS context FROM messages
                WHERE event_position BETWEEN ? AND ? AND channel IS NOT NULL AND state NOT IN \([MessageState.skipped, .parked].sqlList)
                    AND erased_at IS NULL
                ORDER BY key
                """, arguments: [positions.lowerBound, positions.upperBound]).compactMap { row in
                guard let channel = Channel(rawValue: row["channel"]) else { return nil }
                return DecidedRow(key: row["key"], workflow: row["workflow"], channel: channel, recipient: row["recipient"],
                                  template: row["template"], locale: row["locale"], context: row["context"])
            }
        }
    }

    /// The log positions of the events recorded in a time range (either end open), or nil when
    /// none was.
    public func positions(recordedFrom since: Date?, until: Date?) throws -> ClosedRange<Int64>? {
        try read("reading the log's range") { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT MIN(position), MAX(position) FROM events WHERE recorded_at >= ? AND recorded_at < ?
                """, arguments: [since?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude,
                                 until?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude])
            guard let low = row?[0] as Int64?, let high = row?[1] as Int64? else { return nil }
            return low...high
        }
    }
}

extension Store: DryRunSource {
    public func replay(_ replay: inout Replay, through target: Int64, now: Date, each: (Int64, [NotificationIntent]) throws -> Void) async throws {
        try replayLog(into: &replay, through: target, now: now, each: each)
    }
}
