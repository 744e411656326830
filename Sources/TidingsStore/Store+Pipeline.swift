import Foundation
import GRDB
import TidingsCore

/// What one pipeline batch did.
public struct PipelineBatch: Sendable, Hashable {
    public var processed: Int
    public var checkpoint: Int64
    /// New messages ready to send, by channel, so the dispatcher can be woken for them.
    public var readyByChannel: [Channel: Int]
    public var skipped: Int
    /// Unsent order-status messages made stale by a later status of the same order, by channel.
    public var suppressedByChannel: [Channel: Int]
    /// Deadline timers started: the clock may have to wake sooner.
    public var timersScheduled = 0
    /// Orders told about a disruption in this batch, and whether more are waiting.
    public var disruptionAlerts = 0
    public var fanoutPending = false

    public var suppressed: Int { suppressedByChannel.values.reduce(0, +) }
}

extension Store {
    static let pipelineCheckpoint = "pipeline"

    /// Applies the next batch of events in ONE write transaction: read models, workflow
    /// intents into the outbox, deadline timers, and the checkpoint commit together or not at
    /// all, so an event is never half-applied and never applied twice. Then it tells up to
    /// `fanoutLimit` orders about a disruption, in the same transaction, so a disruption
    /// affecting 100,000 orders is worked off in chunks between the batches of new events.
    /// `now` decides quiet hours.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: Date, fanoutLimit: Int = 1000) throws -> PipelineBatch {
        try write("applying a pipeline batch") { db in
            let from = try Self.checkpoint(db, Self.pipelineCheckpoint)
            let events = try Self.events(db, after: from, limit: limit)
            var batch = PipelineBatch(processed: events.count, checkpoint: from, readyByChannel: [:], skipped: 0, suppressedByChannel: [:])
            var models = ReadModelCache(db: db, promises: engine.promises)
            let outbox = try OutboxWriter(db: db, now: now)
            let timers = try TimerWriter(db: db)
            func write(_ intents: [NotificationIntent], _ stored: StoredEvent) throws {
                for intent in intents {
                    guard try outbox.insert(intent, eventAt: stored.recordedAt) else { continue }
                    if let channel = intent.channel { batch.readyByChannel[channel, default: 0] += 1 } else { batch.skipped += 1 }
                    for channel in try outbox.suppressSuperseded(by: intent, eventType: stored.event.type) {
                        batch.suppressedByChannel[channel, default: 0] += 1
                    }
                }
            }
            var queued = try Self.fanoutPending(db)
            for stored in events {
                if stored.event.type == Deadlines.disruption {
                    // The orders it affects are chosen from the table: bring it up to date first.
                    try models.flush()
                    try Self.queueDisruption(db, stored)
                    queued = true
                    continue
                }
                if queued, stored.event.type.hasPrefix("order."), let subject = stored.event.subject {
                    try Self.alertQueued(db, orderID: subject, models: &models, engine: engine, now: now, timers: timers, write: write)
                }
                let affected = try models.apply(stored)
                try write(engine.intents(for: stored, customer: affected.customer, order: affected.order, ticket: affected.ticket, now: now), stored)
                for action in Deadlines.actions(for: stored, order: affected.order, ticket: affected.ticket)
                where try timers.apply(action, position: stored.position) {
                    batch.timersScheduled += 1
                }
            }
            if fanoutLimit > 0 {
                batch.disruptionAlerts = try Self.alertDisrupted(db, limit: fanoutLimit, models: &models, engine: engine, now: now, timers: timers,
                                                           write: write)
                batch.fanoutPending = try Self.fanoutPending(db)
            }
            try models.flush()
            if let last = events.last {
                try Self.setCheckpoint(db, Self.pipelineCheckpoint, last.position)
                batch.checkpoint = last.position
            }
            return batch
        }
    }

    /// The position up to which the pipeline has applied the log.
    public func checkpoint() throws -> Int64 {
        try read("reading the checkpoint") { db in try Self.checkpoint(db, Self.pipelineCheckpoint) }
    }

    static func checkpoint(_ db: Database, _ name: String) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT position FROM checkpoints WHERE name = ?"), arguments: [name]) ?? 0
    }

    static func setCheckpoint(_ db: Database, _ name: String, _ position: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO checkpoints (name, position) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET position = excluded.position
            """).execute(arguments: [name, position])
    }
}

/// Writes intents into the outbox; the unique key makes a second insert of the same intent a
/// no-op, which is what keeps replays from sending twice.
struct OutboxWriter {
    let db: Database
    let now: Double
    let statement: Statement
    let suppress: Statement
    let encoder = JSONEncoder()

    init(db: Database, now: Date) throws {
        self.db = db
        self.now = now.timeIntervalSince1970
        statement = try db.cachedStatement(sql: """
            INSERT INTO messages (key, workflow, category, customer_id, subject_id, event_position, channel, recipient,
                fallback, template, locale, context, state, created_at, due_at, updated_at, last_error, event_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """)
        suppress = try db.cachedStatement(sql: """
            UPDATE messages SET state = 'suppressed', last_error = ?, updated_at = ?
            WHERE subject_id = ? AND category = ? AND state IN ('pending', 'retrying') AND key <> ?
            RETURNING channel
            """)
    }

    /// A new order-status message makes the unsent ones about the same order stale: they are
    /// suppressed (claimed ones are already on their way). Acknowledgements are never touched.
    /// Returns the channels of the messages it suppressed.
    func suppressSuperseded(by intent: NotificationIntent, eventType: String) throws -> [Channel] {
        guard intent.category.canBeSuperseded, let subject = intent.subjectID else { return [] }
        return try String.fetchAll(suppress, arguments: [
            "superseded by \(intent.workflow) (\(eventType))", now, subject, intent.category.rawValue, intent.key,
        ]).compactMap(Channel.init(rawValue:))
    }

    /// Returns whether the intent was new.
    func insert(_ intent: NotificationIntent, eventAt: Date) throws -> Bool {
        let state: MessageState = intent.channel == nil ? .skipped : .pending
        let fallback = String(decoding: try encoder.encode(intent.fallbacks), as: UTF8.self)
        try statement.execute(arguments: [
            intent.key, intent.workflow, intent.category.rawValue, intent.customerID, intent.subjectID, intent.eventPosition,
            intent.channel?.rawValue, intent.recipient, fallback, intent.template, intent.locale, intent.context.encoded(),
            state.rawValue, now, intent.notBefore.map { max(now, $0.timeIntervalSince1970) } ?? now, now, intent.skipReason,
            eventAt.timeIntervalSince1970,
        ])
        return db.changesCount > 0
    }
}
