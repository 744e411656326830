import Foundation
import GRDB
import TidingsCore

extension Store {
    /// A message's attempts, oldest first, on every channel it tried, and the receipts its
    /// providers sent after (`receipt: delivered`, numbered as the attempt they came after).
    public func attempts(messageID: Int64) throws -> [AttemptSummary] {
        try read("reading the history of message \(messageID)") { db in
            try Row.fetchAll(db, sql: AttemptSummary.historySQL, arguments: [messageID]).map { row in
                AttemptSummary(attempt: row["attempt"], channel: row["channel"], at: Date(timeIntervalSince1970: row["at"]),
                               outcome: row["outcome"], detail: row["detail"])
            }
        }
    }

    /// One message by id.
    public func message(id: Int64) throws -> MessageSummary? {
        try messages(id: id, limit: 1).first
    }

    /// Messages by state and channel. Grouped by the columns themselves, so SQLite counts along
    /// `messages_by_state`; grouped by the COALESCE, it sorted every message in a temporary
    /// b-tree (10 ms at 40,000 messages, for each `/metrics` and `/readyz`).
    static let outboxCounts = """
        SELECT state, COALESCE(channel, '-') AS channel, n FROM (SELECT state, channel, COUNT(*) AS n FROM messages GROUP BY state, channel)
        """

    public func status(now: Date) throws -> StoreStatus {
        try read("reading the status") { db in
            var outbox: [MessageState: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: Self.outboxCounts) {
                guard let state = MessageState(rawValue: row["state"]) else { continue }
                outbox[state, default: [:]][row["channel"]] = row["n"]
            }
            // Two counts, each along its own range of `messages_by_state` (the states differ).
            let busy = try Int.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM messages WHERE state = '\(MessageState.sending.rawValue)')
                    + (SELECT COUNT(*) FROM messages WHERE state IN \(MessageState.unsent.sqlList) AND due_at <= ?)
                """, arguments: [now.timeIntervalSince1970]) ?? 0
            let timers = try Self.timerCounts(db, now: now)
            var held: [HeldEvent.Kind: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM held_events GROUP BY kind") {
                if let kind = HeldEvent.Kind(rawValue: row["kind"]) { held[kind] = row["n"] }
            }
            return StoreStatus(head: try Self.head(db), checkpoint: try Self.checkpoint(db, Self.pipelineCheckpoint), outbox: outbox, busy: busy,
                               timers: timers.scheduled, timersDue: timers.due,
                               fanoutPending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fanout") ?? 0, held: held,
                               appending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM appends") ?? 0)
        }
    }

    /// Messages, oldest first, filtered; `after` pages by id.
    public func messages(state: MessageState? = nil, customerID: String? = nil, subjectID: String? = nil, id: Int64? = nil,
                         after: Int64? = nil, limit: Int = 50) throws -> [MessageSummary] {
        try read("listing messages") { db in
            try Self.listMessages(db, state: state, customerID: customerID, subjectID: subjectID, id: id, after: after, limit: limit)
        }
    }

    /// A customer's or a subject's messages, newest first, below `before`: the console pages
    /// back through a long history.
    public func latestMessages(customerID: String?, subjectID: String?, before: Int64?, limit: Int) async throws -> [MessageSummary] {
        try await read("listing messages") { db in
            try Self.listMessages(db, customerID: customerID, subjectID: subjectID, before: before, newestFirst: true, limit: limit)
        }
    }

    private static func listMessages(_ db: Database, state: MessageState? = nil, customerID: String?, subjectID: String?, id: Int64? = nil,
                                     after: Int64? = nil, before: Int64? = nil, newestFirst: Bool = false, limit: Int) throws -> [MessageSummary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let subjectID {
            // With the messages about several orders that name this one.
            conditions.append("(subject_id = ? OR id IN (SELECT message_id FROM message_subjects WHERE subject_id = ?))")
            arguments += [subjectID, subjectID]
        }
        if let after {
            conditions.append("id > ?")
            arguments += [after]
        }
        if let before {
            conditions.append("id < ?")
            arguments += [before]
        }
        if let id {
            conditions.append("id = ?")
            arguments += [id]
        }
        if let state {
            conditions.append("state = ?")
            arguments += [state.rawValue]
        }
        if let customerID {
            conditions.append("customer_id = ?")
            arguments += [customerID]
        }
        arguments += [limit]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, key, workflow, customer_id, subject_id, channel, recipient, state, attempts, created_at, sent_at, last_error
            FROM messages \(filter) ORDER BY id \(newestFirst ? "DESC" : "") LIMIT ?
            """, arguments: arguments)
        return rows.map { row in
            MessageSummary(
                id: row["id"], key: row["key"], workflow: row["workflow"], customerID: row["customer_id"], subjectID: row["subject_id"],
                channel: row["channel"], recipient: row["recipient"], state: MessageState(rawValue: row["state"]) ?? .pending,
                attempts: row["attempts"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                sentAt: (row["sent_at"] as Double?).map(Date.init(timeIntervalSince1970:)), lastError: row["last_error"])
        }
    }

    /// Tickets not yet resolved, for the status page's promises at risk.
    public func openTickets(limit: Int = 500) throws -> [Ticket] {
        try read("listing open tickets") { db in
            try Data.fetchAll(db, sql: "SELECT doc FROM tickets WHERE status <> 'resolved' ORDER BY position LIMIT ?", arguments: [limit])
                .compactMap { try? Ticket(document: $0) }
        }
    }

    /// Events recorded and messages sent since a moment: the status page's throughput.
    public func throughput(since: Date) throws -> (events: Int, sent: Int) {
        try read("counting recent work") { db in
            let t = since.timeIntervalSince1970
            return (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE recorded_at >= ?", arguments: [t]) ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE sent_at >= ?", arguments: [t]) ?? 0)
        }
    }

    /// Whether a write transaction can start now (for readiness).
    public func isWritable() -> Bool {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
            }
            return true
        } catch {
            return false
        }
    }

    /// The read models, for tests and queries.
    public func order(id: String) throws -> Order? { try document("orders", id) }
    public func ticket(id: String) throws -> Ticket? { try document("tickets", id) }
    public func customer(id: String) throws -> Customer? { try document("customers", id) }

    func document<Model: JSONModel>(_ table: String, _ id: String) throws -> Model? {
        try read("reading \(table) \(id)") { db in
            try Data.fetchOne(db, sql: "SELECT doc FROM \(table) WHERE id = ?", arguments: [id]).map {
                try Model(document: $0)
            }
        }
    }
}

extension Store: StatusSource {}

extension Store: ReadQueries {}
