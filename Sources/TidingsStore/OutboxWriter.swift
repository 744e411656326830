import Foundation
import GRDB
import TidingsCore

/// Writes intents into the outbox inside the pipeline's transaction. The unique key makes a
/// second insert of the same intent a no-op, which is what keeps replays from sending twice.
///
/// It holds the rule that nothing is lost quietly: a message is parked while its customer is
/// unknown, skipped only with a reason, and it suppresses or is skipped because of another
/// message only when that one was delivered or is on its way (`MessageState.deliveredOrUnderway`).
struct OutboxWriter {
    typealias Placement = PipelineBatch.Placed

    let db: Database
    let now: Double
    let engine: WorkflowEngine
    let insert: Statement
    let update: Statement
    /// A message's context, in a table of its own (`message_contexts`).
    let setContext: Statement
    let existing: Statement
    let superseded: Statement
    let suppress: Statement
    /// The orders a message names besides its subject (a disruption alert about several).
    let subjects: Statement
    /// Nil when no workflow sends delay notices: then no alert can be redundant.
    let toldAboutDelay: Statement?

    init(db: Database, now: Date, engine: WorkflowEngine) throws {
        self.db = db
        self.now = now.timeIntervalSince1970
        self.engine = engine
        insert = try db.cachedStatement(sql: """
            INSERT INTO messages (key, workflow, category, customer_id, subject_id, event_position, channel, recipient,
                fallback, template, locale, state, created_at, due_at, updated_at, last_error, event_at, priority)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """)
        update = try db.cachedStatement(sql: """
            UPDATE messages SET channel = ?, recipient = ?, fallback = ?, locale = ?, state = ?, due_at = ?,
                updated_at = ?, last_error = ?
            WHERE id = ? AND state = '\(MessageState.parked.rawValue)'
            """)
        setContext = try db.cachedStatement(sql: "INSERT OR REPLACE INTO message_contexts (message_id, context) VALUES (?, ?)")
        existing = try db.cachedStatement(sql: "SELECT id, workflow, event_position FROM messages WHERE key = ?")
        subjects = try db.cachedStatement(sql: "INSERT OR IGNORE INTO message_subjects (subject_id, message_id) VALUES (?, ?)")
        // Found first, then updated by id: most new messages supersede nothing, and an
        // `UPDATE ... RETURNING` builds a temporary table for its rows even when there are none.
        superseded = try db.cachedStatement(sql: """
            SELECT id, channel FROM messages
            WHERE subject_id = ? AND category = ? AND state IN \(MessageState.unsent.sqlList) AND key <> ?
            """)
        suppress = try db.cachedStatement(sql: """
            UPDATE messages SET state = '\(MessageState.suppressed.rawValue)', last_error = ?, updated_at = ? WHERE id = ?
            """)
        let delayWorkflows = engine.workflows.delayNoticeWorkflows
        toldAboutDelay = delayWorkflows.isEmpty ? nil : try db.cachedStatement(sql: Self.toldAboutDelaySQL(workflows: delayWorkflows.count))
    }

    /// The delay notices about an order (its own messages, and those naming it among others),
    /// latest first. The CROSS JOIN makes SQLite start from the order's few messages: left to
    /// itself it walked `messages_by_state` over every message in those states (1.8 ms with
    /// 20,000 of them, against 11 µs, and growing with the outbox).
    static func toldAboutDelaySQL(workflows: Int) -> String {
        """
        SELECT m.id, m.state, m.sent_at
        FROM (SELECT id FROM messages WHERE subject_id = ?1 UNION ALL SELECT message_id FROM message_subjects WHERE subject_id = ?1) AS about
        CROSS JOIN messages m ON m.id = about.id
        WHERE m.workflow IN (\(Array(repeating: "?", count: workflows).joined(separator: ", ")))
            AND m.event_position >= ? AND \(MessageState.deliveredOrUnderway.sqlAnyOf("m.state")) AND m.key <> ?
        ORDER BY m.sent_at IS NOT NULL DESC, m.id DESC LIMIT 1
        """
    }

    /// Writes one intent (or, with `replacing`, routes a parked message in place). Returns what
    /// became of it, or nil when its key was already in the outbox (a replay).
    /// `context` is the intent's context already encoded, when the caller has it (the intents
    /// of one event share theirs).
    func place(_ intent: NotificationIntent, eventType: String, eventAt: Date, replacing parkedID: Int64? = nil, context: Data? = nil) throws
        -> Placement?
    {
        let context = try context ?? intent.context.encoded()
        var placement = OutboxPlacement(intent, now: now, customerWait: engine.customerWait)
        if let since = placement.toldSince { placement.told(try toldAlready(intent, since: since)) }
        let (state, due, note) = (placement.state, placement.dueAt, placement.note)
        let fallback = try Route.document(intent.fallbacks)
        if let parkedID {
            try update.execute(binding: intent.channel?.rawValue, intent.recipient, fallback, intent.locale, state.rawValue, due, now, note, parkedID)
            guard db.changesCount > 0 else { return nil }
            try setContext.execute(binding: parkedID, context)
        } else {
            try insert.execute(binding:
                intent.key, intent.workflow, intent.category.rawValue, intent.customerID, intent.subjectID, intent.eventPosition,
                intent.channel?.rawValue, intent.recipient, fallback, intent.template, intent.locale,
                state.rawValue, now, due, now, note, eventAt.timeIntervalSince1970,
                ClaimPriority(category: intent.category, eventType: eventType).rawValue)
            guard db.changesCount > 0 else {
                try checkSameMessage(intent)
                return nil
            }
            let id = db.lastInsertedRowID
            try setContext.execute(binding: id, context)
            for order in DisruptionScope.covered(by: intent.context) {
                try subjects.execute(binding: order, id)
            }
        }
        switch state {
        case .parked: return .parked
        case .pending: return .queued(intent.channel ?? .email, suppressed: try suppressSuperseded(by: intent, eventType: eventType))
        default: return .skipped
        }
    }

    /// A key already in the outbox must be this very message, met again on a replay. Anything
    /// else would drop a different message quietly, so it stops the event instead (which the
    /// pipeline then quarantines, with this reason).
    func checkSameMessage(_ intent: NotificationIntent) throws {
        guard let row = try Row.fetchOne(existing, arguments: [intent.key]),
              let conflict = OutboxPlacement.keyConflict(intent, messageID: row["id"], workflow: row["workflow"], position: row["event_position"])
        else { return }
        throw StoreError(.keyConflict, conflict)
    }

    /// Why a proactive delay alert is redundant, if it is: a delay notice about the same order,
    /// from the event that opened the alert window or a later one, was delivered or is on its
    /// way. One that died, was suppressed or skipped told the customer nothing.
    func toldAlready(_ intent: NotificationIntent, since position: Int64) throws -> String? {
        guard let statement = toldAboutDelay, let subject = intent.subjectID else { return nil }
        // ?1 twice in the SQL: a message about several orders that names this one told it too.
        var values: [any DatabaseValueConvertible] = [subject]
        values += engine.workflows.delayNoticeWorkflows
        values += [position, intent.key] as [any DatabaseValueConvertible]
        let arguments = StatementArguments(values.map(\.databaseValue))
        guard let row = try Row.fetchOne(statement, arguments: arguments) else { return nil }
        return OutboxPlacement.alreadyTold(messageID: row["id"], sentAt: row["sent_at"], state: row["state"])
    }

    /// A new order-status message that will go out makes the unsent ones about the same order
    /// stale: they are suppressed (claimed ones are already on their way). Acknowledgements are
    /// never touched, and a message that is skipped or parked suppresses nothing. Returns the
    /// channels of the messages it suppressed.
    func suppressSuperseded(by intent: NotificationIntent, eventType: String) throws -> [Channel] {
        guard OutboxPlacement.supersedes(intent), let subject = intent.subjectID else { return [] }
        // Read to the end before any is suppressed: the update would change what the search walks.
        var found: [(id: Int64, channel: Channel?)] = []
        try superseded.forEachRow(binding: subject, intent.category.rawValue, intent.key) { row in
            found.append((try row.value(0), (row.optional(1) as String?).flatMap(Channel.init(rawValue:))))
        }
        guard !found.isEmpty else { return [] }
        let note = OutboxPlacement.supersededNote(workflow: intent.workflow, eventType: eventType)
        for message in found { try suppress.execute(binding: note, now, message.id) }
        return found.compactMap(\.channel)
    }
}
