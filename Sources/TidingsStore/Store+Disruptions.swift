import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Queues every order a disruption affects (`DisruptionScope`), as the orders stand at the
    /// disruption's place in the log. One statement, on indexes over open orders by region and
    /// by carrier (compared without regard to case).
    static func queueDisruption(_ db: Database, _ stored: StoredEvent) throws {
        guard let scope = DisruptionScope(stored.event.data) else { return }
        var sql = """
            INSERT OR IGNORE INTO fanout (event_position, order_id)
            SELECT ?, id FROM orders WHERE status IN \(DisruptionScope.statuses.sqlList)
            """
        var arguments: StatementArguments = [stored.position]
        if let region = scope.region {
            sql += " AND region = ? COLLATE NOCASE"
            arguments += [region]
        }
        if let carrier = scope.carrier {
            sql += " AND carrier = ? COLLATE NOCASE"
            arguments += [carrier]
        }
        try db.execute(sql: sql, arguments: arguments)
    }

    static func fanoutPending(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM fanout)")) ?? false
    }
}

extension PipelineRun {
    /// Tells up to `limit` queued orders about their disruption: each order's model records the
    /// alert (or that it may be redundant, when the customer heard about a delay within the
    /// window), and the workflows decide the messages. Returns how many orders it handled.
    mutating func alertDisrupted(limit: Int) throws -> Int {
        let queued = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout ORDER BY event_position, order_id LIMIT ?
            """), arguments: [limit]).map { ($0["event_position"] as Int64, $0["order_id"] as String) }
        try alert(queued)
        return queued.count
    }

    /// Before a later event about an order is applied, the disruptions still queued for it are
    /// applied first: each order meets its events in log order, whatever the chunk size, so a
    /// replay reaches the same messages.
    mutating func alertQueued(orderID: String) throws {
        let queued = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout WHERE order_id = ? ORDER BY event_position
            """), arguments: [orderID]).map { ($0["event_position"] as Int64, $0["order_id"] as String) }
        try alert(queued)
    }

    /// Each order on its own: one that cannot be told is quarantined with the disruption's
    /// position and its id, and the others are told.
    mutating func alert(_ queued: [(position: Int64, orderID: String)]) throws {
        guard !queued.isEmpty else { return }
        var disruptions: [Int64: StoredEvent] = [:]
        let done = try db.cachedStatement(sql: "DELETE FROM fanout WHERE event_position = ? AND order_id = ?")
        for (position, orderID) in queued {
            try done.execute(arguments: [position, orderID])
            try guarded(HeldEvent.Key(position: position, order: orderID)) { run in
                if disruptions[position] == nil {
                    disruptions[position] = try Store.loggedEvents(run.db, after: position - 1, limit: 1).first?.decoded()
                }
                guard let stored = disruptions[position], let order = try run.models.order(orderID) else { return }
                // Delivered or cancelled before the announcement reached it: nothing to tell.
                guard let projection = run.projector.projectDisruption(stored, to: order, customer: try run.models.customer(order.customerID),
                                                                        now: run.now)
                else { return }
                run.models.put(projection, position: max(order.timeline.last?.position ?? 0, stored.position))
                try run.place(projection.intents, stored)
                for action in projection.timers { try run.timers.apply(action, position: stored.position) }
            }
        }
    }
}
