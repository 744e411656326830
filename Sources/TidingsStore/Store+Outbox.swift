import Foundation
import GRDB
import TidingsCore

/// A message claimed for sending.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var workflow: String
    public var category: String
    public var customerID: String
    public var subjectID: String?
    public var channel: Channel
    public var recipient: String
    public var template: String
    public var locale: String
    public var context: JSONValue
    /// Attempts so far, this one included.
    public var attempts: Int
}

/// The result of one attempt, to be recorded.
public struct DeliveryRecord: Sendable, Hashable {
    public var message: OutboxMessage
    public var outcome: DeliveryOutcome
    /// When a transient failure may be tried again; nil when retries are used up.
    public var retryAt: Date?

    public init(message: OutboxMessage, outcome: DeliveryOutcome, retryAt: Date?) {
        self.message = message
        self.outcome = outcome
        self.retryAt = retryAt
    }
}

extension Store {
    /// Claims up to `limit` due messages of a channel with a lease. A claim whose lease has run
    /// out (its process died mid-send) is claimed again, with the same idempotency key.
    public func claim(channel: Channel, limit: Int, now: Date, lease: TimeInterval) throws -> [OutboxMessage] {
        try write("claiming \(channel.rawValue) messages") { db in try Self.claim(db, channel: channel, limit: limit, now: now, lease: lease) }
    }

    /// One dispatcher turn in one transaction (one fsync): records what finished and claims
    /// what each channel has room for.
    public func settleAndClaim(_ records: [DeliveryRecord], room: [Channel: Int], now: Date, lease: TimeInterval) throws -> [OutboxMessage] {
        try write("recording \(records.count) results and claiming messages") { db in
            try Self.record(db, records, now: now)
            var claimed: [OutboxMessage] = []
            for (channel, limit) in room.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                claimed += try Self.claim(db, channel: channel, limit: limit, now: now, lease: lease)
            }
            return claimed
        }
    }

    static func claim(_ db: Database, channel: Channel, limit: Int, now: Date, lease: TimeInterval) throws -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        let statement = try db.cachedStatement(sql: """
            UPDATE messages SET state = 'sending', lease_until = :lease, attempts = attempts + 1, updated_at = :now
            WHERE id IN (
                SELECT id FROM messages WHERE channel = :channel AND state = 'pending' AND due_at <= :now
                UNION ALL
                SELECT id FROM messages WHERE channel = :channel AND state = 'sending' AND lease_until < :now
                LIMIT :limit)
            RETURNING id, key, workflow, category, customer_id, subject_id, recipient, template, locale, context, attempts
            """)
        let now = now.timeIntervalSince1970
        let rows = try Row.fetchAll(statement, arguments: ["lease": now + lease, "now": now, "channel": channel.rawValue, "limit": limit])
        return try rows.map { row in
            let context: Data = row["context"]
            return OutboxMessage(
                id: row["id"], key: row["key"], workflow: row["workflow"], category: row["category"],
                customerID: row["customer_id"], subjectID: row["subject_id"], channel: channel, recipient: row["recipient"] ?? "",
                template: row["template"], locale: row["locale"], context: try JSONValue.parse(context), attempts: row["attempts"])
        }.sorted { $0.id < $1.id }
    }

    /// Records a batch of attempt results in one transaction (one fsync for the lot).
    public func record(_ records: [DeliveryRecord], now: Date) throws {
        guard !records.isEmpty else { return }
        try write("recording \(records.count) delivery results") { db in try Self.record(db, records, now: now) }
    }

    static func record(_ db: Database, _ records: [DeliveryRecord], now: Date) throws {
        guard !records.isEmpty else { return }
        let update = try db.cachedStatement(sql: """
            UPDATE messages SET state = ?, due_at = COALESCE(?, due_at), sent_at = ?, lease_until = NULL,
                last_error = ?, updated_at = ? WHERE id = ?
            """)
        let history = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO message_attempts (message_id, attempt, channel, at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)
            """)
        let now = now.timeIntervalSince1970
        for record in records {
            let message = record.message
            var state = MessageState.sent
            var error: String?
            switch record.outcome {
            case .sent: break
            case .transient(let reason, _):
                state = record.retryAt == nil ? .failed : .pending
                error = record.retryAt == nil ? "gave up after \(message.attempts) attempts: \(reason)" : reason
            case .permanent(let reason):
                state = .failed
                error = reason
            }
            try update.execute(arguments: [
                state.rawValue, state == .pending ? record.retryAt?.timeIntervalSince1970 : nil,
                state == .sent ? now : nil, error, now, message.id,
            ])
            try history.execute(arguments: [
                message.id, message.attempts, message.channel.rawValue, now, record.outcome.label, record.outcome.detail,
            ])
        }
    }

    /// Puts failed messages back in the queue (all of them, or one), for an operator's retry.
    @discardableResult
    public func retry(messageID: Int64?, now: Date) throws -> Int {
        try write("queueing messages for retry") { db in
            let t = now.timeIntervalSince1970
            if let messageID {
                try db.execute(sql: "UPDATE messages SET state = 'pending', due_at = ?, updated_at = ? WHERE id = ? AND state = 'failed'",
                               arguments: [t, t, messageID])
            } else {
                try db.execute(sql: "UPDATE messages SET state = 'pending', due_at = ?, updated_at = ? WHERE state = 'failed'",
                               arguments: [t, t])
            }
            return db.changesCount
        }
    }

    /// The earliest time a pending message of any channel falls due, to sleep until then.
    public func nextDue() throws -> Date? {
        try read("reading the next due time") { db in
            try Double.fetchOne(db, sql: "SELECT MIN(due_at) FROM messages WHERE state = 'pending'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }
}
