import Foundation
import PostgresNIO
import TidingsCore

extension PostgresPipelineRun {
    /// The intents of one event share one context (`WorkflowEngine.intents`): encoded once.
    mutating func place(_ intents: [NotificationIntent], _ stored: StoredEvent) async throws {
        guard let first = intents.first else { return }
        let context = try first.context.encoded()
        for intent in intents {
            let placement = try await place(intent, eventType: stored.event.type, eventAt: stored.recordedAt, context: context)
            if placement == .parked { anyParked = true }
            batch.count(placement, first: ClaimPriority(category: intent.category, eventType: stored.event.type) == .first)
        }
    }

    /// Writes one intent (or, with `replacing`, routes a parked message in place), as
    /// `OutboxPlacement` decides. Nil when its key was already in the outbox (a replay).
    func place(_ intent: NotificationIntent, eventType: String, eventAt: Date, replacing parkedID: Int64? = nil, context: Data? = nil)
        async throws -> PipelineBatch.Placed?
    {
        let context = ByteBuffer(bytes: try context ?? intent.context.encoded())
        var placement = OutboxPlacement(intent, now: t, customerWait: engine.customerWait)
        if let since = placement.toldSince { placement.told(try await toldAlready(intent, since: since)) }
        let fallback = try Route.document(intent.fallbacks)
        if let parkedID {
            let rows = try await connection.run("""
                UPDATE messages SET channel = \(intent.channel?.rawValue), recipient = \(intent.recipient), fallback = \(fallback),
                    locale = \(intent.locale), context = \(context), state = \(placement.state.rawValue), due_at = \(placement.dueAt),
                    updated_at = \(t), last_error = \(placement.note)
                WHERE id = \(parkedID) AND state = \(MessageState.parked.rawValue)
                RETURNING id
                """, logger: logger)
            guard try await Self.first(rows) != nil else { return nil }
        } else {
            let priority = ClaimPriority(category: intent.category, eventType: eventType).rawValue
            // A new order-status message makes the unsent ones about its order stale: in the
            // same statement as its insert (one round trip), and only if it was inserted.
            let supersedes = placement.state == .pending && OutboxPlacement.supersedes(intent)
            let rows = try await connection.run("""
                WITH placed AS (
                    INSERT INTO messages (key, workflow, category, customer_id, subject_id, event_position, channel, recipient,
                        fallback, template, locale, context, state, created_at, due_at, updated_at, last_error, event_at, priority)
                    VALUES (\(intent.key), \(intent.workflow), \(intent.category.rawValue), \(intent.customerID), \(intent.subjectID),
                        \(intent.eventPosition), \(intent.channel?.rawValue), \(intent.recipient), \(fallback), \(intent.template), \(intent.locale),
                        \(context), \(placement.state.rawValue), \(t), \(placement.dueAt), \(t), \(placement.note), \(eventAt.timeIntervalSince1970),
                        \(priority))
                    ON CONFLICT (key) DO NOTHING
                    RETURNING id),
                stale AS (
                    UPDATE messages SET state = \(MessageState.suppressed.rawValue),
                        last_error = \(OutboxPlacement.supersededNote(workflow: intent.workflow, eventType: eventType)), updated_at = \(t)
                    WHERE \(supersedes) AND subject_id = \(intent.subjectID) AND category = \(intent.category.rawValue)
                        AND state IN \(unescaped: MessageState.unsent.sqlList) AND key <> \(intent.key) AND EXISTS (SELECT 1 FROM placed)
                    RETURNING channel)
                SELECT (SELECT id FROM placed), ARRAY(SELECT channel FROM stale WHERE channel IS NOT NULL)
                """, logger: logger)
            var placed: (id: Int64?, stale: [String]) = (nil, [])
            for try await (id, stale) in rows.decode((Int64?, [String]).self) { placed = (id, stale) }
            guard let id = placed.id else {
                try await checkSameMessage(intent)
                return nil
            }
            let covered = DisruptionScope.covered(by: intent.context)
            if !covered.isEmpty {
                try await connection.run("""
                    INSERT INTO message_subjects (subject_id, message_id) SELECT s, \(id) FROM unnest(\(covered)::text[]) AS s
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if placement.state == .pending {
                return .queued(intent.channel ?? .email, suppressed: placed.stale.compactMap(TidingsCore.Channel.init(rawValue:)))
            }
        }
        switch placement.state {
        case .parked:
            return .parked
        case .pending: return .queued(intent.channel ?? .email, suppressed: try await suppressSuperseded(by: intent, eventType: eventType))
        default: return .skipped
        }
    }

    static func first(_ rows: PostgresRowSequence) async throws -> Int64? {
        var first: Int64?
        for try await id in rows.decode(Int64.self) where first == nil { first = id }
        return first
    }

    /// A key already in the outbox must be this very message, met again on a replay.
    func checkSameMessage(_ intent: NotificationIntent) async throws {
        let rows = try await connection.run("SELECT id, workflow, event_position FROM messages WHERE key = \(intent.key)", logger: logger)
        for try await (id, workflow, position) in rows.decode((Int64, String, Int64).self) {
            if let conflict = OutboxPlacement.keyConflict(intent, messageID: id, workflow: workflow, position: position) {
                throw PostgresBackendError(.writeFailed, conflict)
            }
        }
    }

    /// Why a proactive delay alert is redundant, if it is (`OutboxPlacement.alreadyTold`).
    func toldAlready(_ intent: NotificationIntent, since position: Int64) async throws -> String? {
        let workflows = engine.workflows.delayNoticeWorkflows
        guard !workflows.isEmpty, let subject = intent.subjectID else { return nil }
        let rows = try await connection.run(PostgresQuery(unsafeSQL: """
            SELECT id, state, sent_at FROM messages
            WHERE id IN (SELECT id FROM messages WHERE subject_id = $1 UNION ALL SELECT message_id FROM message_subjects WHERE subject_id = $1)
                AND workflow = ANY($2) AND event_position >= $3 AND state IN \(MessageState.deliveredOrUnderway.sqlList) AND key <> $4
            ORDER BY sent_at IS NOT NULL DESC, id DESC LIMIT 1
            """, binds: PostgresBindings.of(subject, Array(workflows), position, intent.key)), logger: logger)
        for try await (id, state, sentAt) in rows.decode((Int64, String, Double?).self) {
            return OutboxPlacement.alreadyTold(messageID: id, sentAt: sentAt, state: state)
        }
        return nil
    }

    /// Unsent messages about the same order made stale by a new order-status message.
    func suppressSuperseded(by intent: NotificationIntent, eventType: String) async throws -> [TidingsCore.Channel] {
        guard OutboxPlacement.supersedes(intent), let subject = intent.subjectID else { return [] }
        let rows = try await connection.run(PostgresQuery(unsafeSQL: """
            UPDATE messages SET state = \(MessageState.suppressed.sqlLiteral), last_error = $1, updated_at = $2
            WHERE subject_id = $3 AND category = $4 AND state IN \(MessageState.unsent.sqlList) AND key <> $5
            RETURNING channel
            """, binds: PostgresBindings.of(OutboxPlacement.supersededNote(workflow: intent.workflow, eventType: eventType), t, subject,
                                             intent.category.rawValue, intent.key)), logger: logger)
        var channels: [TidingsCore.Channel] = []
        for try await name in rows.decode(String?.self) {
            if let channel = name.flatMap(TidingsCore.Channel.init(rawValue:)) { channels.append(channel) }
        }
        return channels
    }

    /// Routes the messages parked for this customer, in log order, now that they are known.
    /// One that cannot be routed is skipped with the reason, in a savepoint of its own: the
    /// customer's event itself must still apply.
    mutating func releaseParked(for customer: Customer) async throws {
        let rows = try await connection.run("""
            SELECT m.id, m.key, m.workflow, m.category, m.subject_id, m.event_position, m.template, m.context, m.event_at, e.type
            FROM messages m JOIN events e ON e.position = m.event_position
            WHERE m.customer_id = \(customer.id) AND m.state = \(MessageState.parked.rawValue) ORDER BY m.event_position, m.id
            """, logger: logger)
        var parked: [(id: Int64, message: ParkedMessage, category: String, eventAt: Double?)] = []
        for try await (id, key, workflow, category, subjectID, position, template, context, eventAt, type) in rows.decode(
            (Int64, String, String, String, String?, Int64, String, Data, Double?, String).self)
        {
            parked.append((id, ParkedMessage(key: key, workflow: workflow, customerID: customer.id, subjectID: subjectID, eventPosition: position,
                                             eventType: type, template: template, context: (try? JSONValue.parse(context)) ?? .null),
                           category, eventAt))
        }
        for row in parked {
            try await connection.run("SAVEPOINT parked", logger: logger)
            do {
                if let subject = row.message.subjectID { try await models.load(.orders, [subject], on: connection, logger: logger) }
                let ticketID = row.message.context.value(atPath: "ticket.id")?.stringValue
                if let ticketID { try await models.load(.tickets, [ticketID], on: connection, logger: logger) }
                let intent = engine.release(row.message, category: Workflow.Category(rawValue: row.category) ?? .transactional, customer: customer,
                                            order: row.message.subjectID.flatMap { models.orders[$0] ?? nil },
                                            ticket: ticketID.flatMap { models.tickets[$0] ?? nil }, now: now)
                let placement = try await place(intent, eventType: row.message.eventType, eventAt: Date(timeIntervalSince1970: row.eventAt ?? t),
                                                replacing: row.id)
                try await connection.run("RELEASE SAVEPOINT parked", logger: logger)
                batch.count(placement)
                batch.releasedMessages += 1
            } catch where Self.belongsToTheEvent(error) {
                try await connection.run("ROLLBACK TO SAVEPOINT parked", logger: logger)
                try await connection.run("""
                    UPDATE messages SET state = \(MessageState.skipped.rawValue),
                        last_error = \(OutboxPlacement.unroutable(customerID: customer.id, error: error)), updated_at = \(t)
                    WHERE id = \(row.id)
                    """, logger: logger)
                batch.skipped += 1
            }
        }
    }
}
