import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Appends the deadline event of every timer due by `now` and removes the timer, in ONE
    /// transaction: a timer fires once, and its event id is fixed, so a crash or a second
    /// clock cannot fire it twice.
    @discardableResult
    public func fireDueTimers(now: Date, limit: Int = 1000) throws -> TimerFiring {
        try write("firing due deadline timers") { db in try Self.fireDueTimers(db, now: now, limit: limit) }
    }

    static func fireDueTimers(_ db: Database, now: Date, limit: Int) throws -> TimerFiring {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT type, subject, due_at FROM timers WHERE due_at <= ? ORDER BY due_at, type, subject LIMIT ?
            """), arguments: [now.timeIntervalSince1970, limit])
        guard !rows.isEmpty else { return TimerFiring(timers: 0, appended: 0) }
        let timers = rows.map { DeadlineTimer(type: $0["type"], subject: $0["subject"], dueAt: Date(timeIntervalSince1970: $0["due_at"])) }
        // A deadline of a forgotten customer's order or ticket (set by an event the pipeline
        // applied before it met the forget) tells nobody anything: it goes unfired.
        var firing: [CloudEvent] = []
        let anyForgotten = try Self.anyForgotten(db)
        for timer in timers {
            if anyForgotten, try forgotten(db, timer.event) != nil { continue }
            firing.append(timer.event)
        }
        let result = try Self.append(db, firing, now: now)
        if let refusal = result.refusal { throw StoreError(.invalidRequest, "cannot fire deadline timers: \(refusal)") }
        let appended = result.appended
        let delete = try db.cachedStatement(sql: "DELETE FROM timers WHERE type = ? AND subject = ?")
        for timer in timers { try delete.execute(arguments: [timer.type, timer.subject]) }
        return TimerFiring(timers: timers.count, appended: appended)
    }

    /// The timer that falls due first, if any.
    public func nextTimer() throws -> DeadlineTimer? {
        try read("reading the next timer") { db in try Self.nextTimer(db) }
    }

    static func nextTimer(_ db: Database) throws -> DeadlineTimer? {
        return try Row.fetchOne(db.cachedStatement(sql: "SELECT type, subject, due_at FROM timers ORDER BY due_at LIMIT 1")).map {
            DeadlineTimer(type: $0["type"], subject: $0["subject"], dueAt: Date(timeIntervalSince1970: $0["due_at"]))
        }
    }

    /// Timers running, and how many are due by `now`.
    static func timerCounts(_ db: Database, now: Date) throws -> (scheduled: Int, due: Int) {
        // Two counts: the second reads only the due range of `timers_due`.
        let row = try Row.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM timers), (SELECT COUNT(*) FROM timers WHERE due_at <= ?)",
                                   arguments: [now.timeIntervalSince1970])
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// For the v3 migration: timers for the orders and tickets that were already open, as
    /// their state keeps them running. Deadlines that passed before the upgrade are left alone:
    /// nobody should get a pile of apologies for history on the first start.
    static func scheduleExistingDeadlines(_ db: Database, now: Date = Date()) throws {
        let writer = try TimerWriter(db: db)
        func schedule(_ timers: [DeadlineTimer], position: Int64) throws {
            for timer in timers where timer.dueAt > now { try writer.apply(.schedule(timer), position: position) }
        }
        let orders = try Row.fetchCursor(db, sql: """
            SELECT doc, position FROM orders WHERE status IN \(Order.Status.undelivered.sqlList)
            """)
        while let row = try orders.next() {
            guard let order = try? Order(document: row["doc"] as Data) else { continue }
            try schedule(Deadlines.running(order), position: row["position"])
        }
        let tickets = try Row.fetchCursor(db, sql: "SELECT doc, position FROM tickets WHERE status <> 'resolved'")
        while let row = try tickets.next() {
            guard let ticket = try? Ticket(document: row["doc"] as Data) else { continue }
            try schedule(Deadlines.running(ticket), position: row["position"])
        }
    }
}

/// Starts and stops timers inside the pipeline's transaction, so a timer and the event that
/// set it commit together.
struct TimerWriter {
    let schedule: Statement
    let cancel: Statement

    init(db: Database) throws {
        schedule = try db.cachedStatement(sql: """
            INSERT INTO timers (type, subject, due_at, scheduled_by) VALUES (?, ?, ?, ?)
            ON CONFLICT (type, subject) DO UPDATE SET due_at = excluded.due_at, scheduled_by = excluded.scheduled_by
            """)
        cancel = try db.cachedStatement(sql: "DELETE FROM timers WHERE type = ? AND subject = ? AND (? IS NULL OR due_at = ?)")
    }

    /// Returns whether a timer was scheduled (the clock may need to wake sooner).
    @discardableResult
    func apply(_ action: TimerAction, position: Int64) throws -> Bool {
        switch action {
        case .schedule(let timer):
            try schedule.execute(binding: timer.type, timer.subject, timer.dueAt.timeIntervalSince1970, position)
            return true
        case .cancel(let type, let subject, let dueAt):
            let due = dueAt?.timeIntervalSince1970
            try cancel.execute(binding: type, subject, due, due)
            return false
        }
    }
}
