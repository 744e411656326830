import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// The HTTP API's reads on PostgreSQL: models by id, messages by filter, an operator's retry.
public struct PostgresReads: ReadQueries {
    let backend: PostgresBackend

    public init(backend: PostgresBackend) {
        self.backend = backend
    }

    var logger: Logger { backend.logger }

    public func order(id: String) async throws -> Order? {
        try await document("orders", id).map { try Order(document: $0) }
    }

    public func ticket(id: String) async throws -> Ticket? {
        try await document("tickets", id).map { try Ticket(document: $0) }
    }

    public func customer(id: String) async throws -> Customer? {
        try await document("customers", id).map { try Customer(document: $0) }
    }

    func document(_ table: String, _ id: String) async throws -> Data? {
        try await backend.connection("reading \(table) \(id)") { connection in
            let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT doc FROM \(table) WHERE id = $1", binds: PostgresBindings.of(id)),
                                                  logger: logger)
            for try await doc in rows.decode(Data.self) { return doc }
            return nil
        }
    }

    public func messages(state: MessageState?, customerID: String?, subjectID: String?, id: Int64?, after: Int64?, limit: Int) async throws
        -> [MessageSummary]
    {
        try await listMessages(state: state, customerID: customerID, subjectID: subjectID, id: id, after: after, limit: limit)
    }

    /// A customer's or a subject's messages, newest first, below `before` (the console's pages).
    public func latestMessages(customerID: String?, subjectID: String?, before: Int64?, limit: Int) async throws -> [MessageSummary] {
        try await listMessages(customerID: customerID, subjectID: subjectID, before: before, newestFirst: true, limit: limit)
    }

    private func listMessages(state: MessageState? = nil, customerID: String?, subjectID: String?, id: Int64? = nil, after: Int64? = nil,
                              before: Int64? = nil, newestFirst: Bool = false, limit: Int) async throws -> [MessageSummary] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let subjectID {
            binds.append(subjectID)
            // With the messages about several orders that name this one.
            conditions.append("(subject_id = $\(binds.count) OR id IN (SELECT message_id FROM message_subjects WHERE subject_id = $\(binds.count)))")
        }
        if let after {
            binds.append(after)
            conditions.append("id > $\(binds.count)")
        }
        if let before {
            binds.append(before)
            conditions.append("id < $\(binds.count)")
        }
        if let id {
            binds.append(id)
            conditions.append("id = $\(binds.count)")
        }
        if let state {
            binds.append(state.rawValue)
            conditions.append("state = $\(binds.count)")
        }
        if let customerID {
            binds.append(customerID)
            conditions.append("customer_id = $\(binds.count)")
        }
        binds.append(limit)
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let query = PostgresQuery(unsafeSQL: """
            SELECT id, key, workflow, customer_id, subject_id, channel, recipient, state, attempts, created_at, sent_at, last_error
            FROM messages \(filter) ORDER BY id \(newestFirst ? "DESC" : "") LIMIT $\(binds.count)
            """, binds: binds)
        return try await backend.connection("listing messages") { connection in
            var messages: [MessageSummary] = []
            for try await (id, key, workflow, customer, subject, channel, recipient, state, attempts, created, sent, error) in try await connection
                .run(query, logger: logger)
                .decode((Int64, String, String, String, String?, String?, String?, String, Int64, Double, Double?, String?).self) {
                messages.append(MessageSummary(
                    id: id, key: key, workflow: workflow, customerID: customer, subjectID: subject, channel: channel, recipient: recipient,
                    state: MessageState(rawValue: state) ?? .pending, attempts: Int(attempts), createdAt: Date(timeIntervalSince1970: created),
                    sentAt: sent.map(Date.init(timeIntervalSince1970:)), lastError: error))
            }
            return messages
        }
    }

    public func suppressions(channel: TidingsCore.Channel?, customerID: String?) async throws -> [SuppressedAddress] {
        try await backend.connection("listing suppressed addresses") { connection in
            var list: [SuppressedAddress] = []
            let rows = try await connection.run("""
                SELECT doc FROM customers WHERE suppressed > 0 AND (\(customerID)::text IS NULL OR id = \(customerID)) ORDER BY id
                """, logger: logger)
            for try await doc in rows.decode(Data.self) {
                let customer = try Customer(document: doc)
                for suppression in customer.suppressed where channel == nil || suppression.channel == channel {
                    list.append(SuppressedAddress(customerID: customer.id, suppression: suppression))
                }
            }
            return list
        }
    }

    public func receiptTarget(key: String) async throws -> ReceiptTarget? {
        try await targets("SELECT key, customer_id, channel, recipient, state FROM messages WHERE key = \(key)").first
    }

    public func messengerSent(to recipient: String, before watermark: Date, limit: Int) async throws -> [ReceiptTarget] {
        try await targets("""
            SELECT key, customer_id, channel, recipient, state FROM messages
            WHERE recipient = \(recipient) AND state = \(unescaped: MessageState.sent.sqlLiteral)
                AND channel = \(unescaped: "'\(TidingsCore.Channel.messenger.rawValue)'")
                AND sent_at <= \(watermark.timeIntervalSince1970)
            ORDER BY id LIMIT \(limit)
            """)
    }

    func targets(_ query: PostgresQuery) async throws -> [ReceiptTarget] {
        try await backend.connection("looking up messages for a receipt") { connection in
            var targets: [ReceiptTarget] = []
            for try await (key, customer, channel, recipient, state) in try await connection.run(query, logger: logger)
                .decode((String, String, String?, String?, String).self) {
                guard let channel = channel.flatMap(TidingsCore.Channel.init(rawValue:)), let state = MessageState(rawValue: state) else { continue }
                targets.append(ReceiptTarget(key: key, customerID: customer, channel: channel, recipient: recipient ?? "", state: state))
            }
            return targets
        }
    }

    public func throughput(since: Date) async throws -> (events: Int, sent: Int) {
        try await backend.connection("counting recent work") { connection in
            let t = since.timeIntervalSince1970
            for try await (events, sent) in try await connection.run("""
                SELECT (SELECT COUNT(*) FROM events WHERE recorded_at >= \(t)), (SELECT COUNT(*) FROM messages WHERE sent_at >= \(t))
                """, logger: logger).decode((Int64, Int64).self) { return (Int(events), Int(sent)) }
            return (0, 0)
        }
    }

    public func openTickets(limit: Int) async throws -> [Ticket] {
        try await backend.connection("listing open tickets") { connection in
            var tickets: [Ticket] = []
            for try await doc in try await connection.run("""
                SELECT doc FROM tickets WHERE status <> 'resolved' ORDER BY position LIMIT \(limit)
                """, logger: logger).decode(Data.self) {
                if let ticket = try? Ticket(document: doc) { tickets.append(ticket) }
            }
            return tickets
        }
    }

    public func heldEvents(kind: HeldEvent.Kind?, limit: Int) async throws -> [HeldEvent] {
        try await backend.connection("listing held events") { connection in
            var held: [HeldEvent] = []
            for try await row in try await connection.run("""
                SELECT h.position, h.scope, h.kind, h.waiting_for, h.reason, h.held_at, h.expires_at, h.attempts, h.retry_requested,
                    e.type, e.subject
                FROM held_events h LEFT JOIN events e ON e.position = h.position
                WHERE \(kind?.rawValue)::text IS NULL OR h.kind = \(kind?.rawValue) ORDER BY h.position, h.scope LIMIT \(limit)
                """, logger: logger) {
                let (position, scope, name, waitingFor, reason, heldAt, expiresAt, attempts, retry, type, subject) =
                    try row.decode((Int64, String, String, String?, String, Double, Double?, Int64, Bool, String?, String?).self)
                held.append(HeldEvent(
                    key: HeldEvent.Key(position: position, order: scope.isEmpty ? nil : scope), kind: HeldEvent.Kind(rawValue: name) ?? .quarantined,
                    type: type, subject: subject, waitingFor: waitingFor, reason: reason, heldAt: Date(timeIntervalSince1970: heldAt),
                    expiresAt: expiresAt.map(Date.init(timeIntervalSince1970:)), attempts: Int(attempts), retryRequested: retry))
            }
            return held
        }
    }

    public func deliveryRates() async throws -> [DeliveryRate] {
        try await backend.connection("counting delivery outcomes") { connection in
            var counts: [DeliveryRate.Count] = []
            for try await (channel, workflow, n) in try await connection.run("""
                SELECT COALESCE(channel, '-'), workflow, COUNT(*) FROM messages WHERE state = \(MessageState.sent.rawValue) GROUP BY 1, 2
                """, logger: logger).decode((String, String, Int64).self) {
                counts.append(DeliveryRate.Count(channel: channel, workflow: workflow, status: nil, messages: Int(n)))
            }
            for try await (channel, workflow, status, n) in try await connection.run("""
                SELECT r.channel, m.workflow, r.status, COUNT(DISTINCT r.message_id)
                FROM message_receipts r JOIN messages m ON m.id = r.message_id GROUP BY 1, 2, 3
                """, logger: logger).decode((String, String, String, Int64).self) {
                counts.append(DeliveryRate.Count(channel: channel, workflow: workflow, status: status, messages: Int(n)))
            }
            return DeliveryRate.tally(counts)
        }
    }

    /// Dead messages start again on the channel they died on, with a fresh count of attempts.
    /// One whose contents were erased has nothing left to send and stays.
    public func retry(messageID: Int64?, now: Date, by actor: OperatorAction.Actor) async throws -> Int {
        let t = now.timeIntervalSince1970
        return try await backend.transaction("queueing messages for retry") { connection in
            let rows = try await connection.run("""
                UPDATE messages SET state = \(MessageState.pending.rawValue), route_attempts = 0, route_started_at = NULL, due_at = \(t),
                    updated_at = \(t)
                WHERE state IN \(unescaped: MessageState.retryable.sqlList) AND (\(messageID)::int8 IS NULL OR id = \(messageID))
                    AND erased_at IS NULL
                RETURNING id
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            try await record(OperatorAction(at: now, actor: actor, kind: .retry, target: OperatorAction.retryTarget(messageID), affected: count),
                             on: connection)
            return count
        }
    }
}
