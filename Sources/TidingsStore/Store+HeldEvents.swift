import Foundation
import GRDB
import TidingsCore

/// Writes held events inside the pipeline's transaction.
struct HeldEventWriter {
    let db: Database
    let now: Double

    init(db: Database, now: Date) throws {
        self.db = db
        self.now = now.timeIntervalSince1970
    }

    /// Quarantines an event; one held before keeps what it waits for and counts one more attempt.
    func quarantine(_ key: HeldEvent.Key, reason: String) throws {
        try db.cachedStatement(sql: """
            INSERT INTO held_events (position, scope, kind, reason, held_at) VALUES (?, ?, '\(HeldEvent.Kind.quarantined.rawValue)', ?, ?)
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, held_at = excluded.held_at,
                expires_at = NULL, attempts = attempts + 1, retry_requested = 0
            """).execute(arguments: [key.position, key.scope, reason, now])
    }

    func wait(_ position: Int64, for entity: String, reason: String, until expiry: Date) throws {
        try db.cachedStatement(sql: """
            INSERT INTO held_events (position, scope, kind, waiting_for, reason, held_at, expires_at)
            VALUES (?, '', '\(HeldEvent.Kind.waiting.rawValue)', ?, ?, ?, ?)
            ON CONFLICT (position, scope) DO UPDATE SET kind = excluded.kind, waiting_for = excluded.waiting_for,
                reason = excluded.reason, expires_at = excluded.expires_at, retry_requested = 0
            """).execute(arguments: [position, entity, reason, now, expiry.timeIntervalSince1970])
    }

    /// Whether any event is held for an order or ticket, waiting or quarantined after its wait
    /// (one probe of `held_events_by_entity`): those are what `waiting(for:)` finds.
    func anyWaiting() throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_events WHERE waiting_for IS NOT NULL)")) ?? true
    }

    /// The events held for an order or ticket, in log order.
    func waiting(for entity: String) throws -> [Int64] {
        try Int64.fetchAll(db.cachedStatement(sql: """
            SELECT position FROM held_events WHERE waiting_for = ? AND scope = '' ORDER BY position
            """), arguments: [entity])
    }

    func remove(_ key: HeldEvent.Key) throws {
        try db.cachedStatement(sql: "DELETE FROM held_events WHERE position = ? AND scope = ?").execute(arguments: [key.position, key.scope])
    }

    static var gaveUp: String { HeldEvent.gaveUp }

    /// Waiting events whose wait ran out are quarantined; they still apply if their order or
    /// ticket comes later.
    func expireWaits() throws -> [HeldEvent.Note] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            UPDATE held_events SET kind = '\(HeldEvent.Kind.quarantined.rawValue)',
                reason = '\(Self.gaveUp)' || reason || '\(HeldEvent.gaveUpEnd)', expires_at = NULL
            WHERE kind = '\(HeldEvent.Kind.waiting.rawValue)' AND waiting_for IS NOT NULL AND expires_at <= ?
            RETURNING position, reason
            """), arguments: [now])
        return rows.map { HeldEvent.Note(key: HeldEvent.Key(position: $0["position"]), reason: $0["reason"]) }
    }
}

extension Store {
    /// Held events, oldest first; all kinds when `kind` is nil.
    public func heldEvents(kind: HeldEvent.Kind? = nil, limit: Int = 1000) throws -> [HeldEvent] {
        try read("listing held events") { db in
            try Row.fetchAll(db, sql: """
                SELECT h.position, h.scope, h.kind, h.waiting_for, h.reason, h.held_at, h.expires_at, h.attempts, h.retry_requested,
                    e.type, e.subject
                FROM held_events h LEFT JOIN events e ON e.position = h.position
                WHERE ?1 IS NULL OR h.kind = ?1 ORDER BY h.position, h.scope LIMIT ?2
                """, arguments: [kind?.rawValue, limit]).map { row in
                let scope: String = row["scope"]
                return HeldEvent(
                    key: HeldEvent.Key(position: row["position"], order: scope.isEmpty ? nil : scope),
                    kind: HeldEvent.Kind(rawValue: row["kind"]) ?? .quarantined, type: row["type"], subject: row["subject"],
                    waitingFor: row["waiting_for"], reason: row["reason"], heldAt: Date(timeIntervalSince1970: row["held_at"]),
                    expiresAt: (row["expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)), attempts: row["attempts"],
                    retryRequested: row["retry_requested"])
            }
        }
    }

    /// When the first wait ends: of a message parked for its customer, or of an event waiting
    /// for its order or ticket. Nil when nothing waits.
    public func nextWaitEnd() throws -> Date? {
        try read("reading when the next wait ends") { db in try Self.nextWaitEnd(db) }
    }

    /// Through the partial indexes of parked messages and waiting events (every waiting event
    /// names what it waits for): left to itself SQLite walked every parked message by state.
    static func nextWaitEnd(_ db: Database) throws -> Date? {
        return try Double.fetchOne(db.cachedStatement(sql: """
            SELECT MIN(t) FROM (
                SELECT MIN(due_at) AS t FROM messages INDEXED BY messages_parked WHERE state = '\(MessageState.parked.rawValue)'
                UNION ALL
                SELECT MIN(expires_at) FROM held_events WHERE kind = '\(HeldEvent.Kind.waiting.rawValue)' AND waiting_for IS NOT NULL)
            """)).map(Date.init(timeIntervalSince1970:))
    }

    /// How many events of a kind are held: cheap, for `/readyz`.
    public func heldCount(_ kind: HeldEvent.Kind) throws -> Int {
        try read("counting held events") { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM held_events WHERE kind = ?"), arguments: [kind.rawValue]) ?? 0
        }
    }

    /// Asks for held events to be applied again: one position (its event, and any fan-out
    /// orders held under it), or every quarantined one. Returns how many were marked.
    @discardableResult
    public func requestRetry(position: Int64?) throws -> Int {
        try write("marking held events for a retry") { db in
            try db.execute(sql: """
                UPDATE held_events SET retry_requested = 1
                WHERE (?1 IS NULL AND kind = '\(HeldEvent.Kind.quarantined.rawValue)') OR position = ?1
                """, arguments: [position])
            return db.changesCount
        }
    }

    /// Whether an operator asked for a retry that has not been carried out yet.
    public func retriesRequested() throws -> Bool {
        try read("looking for requested retries") { db in try Self.retriesRequested(db) }
    }

    static func retriesRequested(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_events WHERE retry_requested = 1)")) ?? false
    }

    /// Applies every held event an operator asked to retry, each in a transaction of its own,
    /// out of log order. One that fails again stays quarantined with the new reason.
    public func retryRequested(engine: WorkflowEngine, now: @autoclosure () -> Date) throws -> [HeldRetry] {
        let keys = try read("reading requested retries") { db in
            try Row.fetchAll(db, sql: "SELECT position, scope FROM held_events WHERE retry_requested = 1 ORDER BY position, scope").map { row in
                let scope: String = row["scope"]
                return HeldEvent.Key(position: row["position"], order: scope.isEmpty ? nil : scope)
            }
        }
        var outcomes: [HeldRetry] = []
        for key in keys {
            do {
                try write("retrying the held event at position \(key.position)") { db in
                    var run = try PipelineRun(db: db, engine: engine, now: now(), cache: models)
                    try run.reapply(key)
                    models.commit(run.loaded, after: db)
                }
                outcomes.append(HeldRetry(key: key, failure: nil))
            } catch let failure as EventFailure {
                try write("quarantining the event at position \(key.position) again") { db in
                    try HeldEventWriter(db: db, now: now()).quarantine(failure.key, reason: failure.reason)
                    if failure.key != key {
                        try db.execute(sql: "UPDATE held_events SET retry_requested = 0 WHERE position = ? AND scope = ?",
                                       arguments: [key.position, key.scope])
                    }
                }
                outcomes.append(HeldRetry(key: key, failure: failure.reason))
            }
        }
        return outcomes
    }
}
