import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Queues every open, undelivered order a disruption affects, as the orders stand at the
    /// disruption's place in the log. One statement, on indexes over open orders by region and
    /// by carrier (compared without regard to case).
    static func queueDisruption(_ db: Database, _ stored: StoredEvent) throws {
        let data = stored.event.data
        var sql = """
            INSERT OR IGNORE INTO fanout (event_position, order_id)
            SELECT ?, id FROM orders WHERE status IN ('placed', 'delayed', 'shipped', 'out_for_delivery')
            """
        var arguments: StatementArguments = [stored.position]
        if let region = data["region"]?.stringValue {
            sql += " AND region = ? COLLATE NOCASE"
            arguments += [region]
        }
        if let carrier = data["carrier"]?.stringValue {
            sql += " AND carrier = ? COLLATE NOCASE"
            arguments += [carrier]
        }
        // The validator insists on a region or a carrier; an event that has neither affects nothing.
        guard data["region"]?.stringValue != nil || data["carrier"]?.stringValue != nil else { return }
        try db.execute(sql: sql, arguments: arguments)
    }

    /// Tells up to `limit` queued orders about their disruption: each order's model records the
    /// alert (or that it is held, when the customer heard about a delay within the window), and
    /// the workflows decide the messages. Returns how many orders it handled.
    static func alertDisrupted(_ db: Database, limit: Int, models: inout ReadModelCache, engine: WorkflowEngine, now: Date,
                               timers: TimerWriter, write: ([NotificationIntent], StoredEvent) throws -> Void) throws -> Int {
        let queued = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout ORDER BY event_position, order_id LIMIT ?
            """), arguments: [limit])
        try alert(db, queued, models: &models, engine: engine, now: now, timers: timers, write: write)
        return queued.count
    }

    /// Before a later event about an order is applied, the disruptions still queued for it are
    /// applied first: each order meets its events in log order, whatever the chunk size, so a
    /// replay reaches the same messages.
    static func alertQueued(_ db: Database, orderID: String, models: inout ReadModelCache, engine: WorkflowEngine, now: Date,
                            timers: TimerWriter, write: ([NotificationIntent], StoredEvent) throws -> Void) throws {
        let queued = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout WHERE order_id = ? ORDER BY event_position
            """), arguments: [orderID])
        try alert(db, queued, models: &models, engine: engine, now: now, timers: timers, write: write)
    }

    static func alert(_ db: Database, _ queued: [Row], models: inout ReadModelCache, engine: WorkflowEngine, now: Date,
                      timers: TimerWriter, write: ([NotificationIntent], StoredEvent) throws -> Void) throws {
        guard !queued.isEmpty else { return }
        var disruptions: [Int64: StoredEvent] = [:]
        let done = try db.cachedStatement(sql: "DELETE FROM fanout WHERE event_position = ? AND order_id = ?")
        for row in queued {
            let position: Int64 = row["event_position"]
            let orderID: String = row["order_id"]
            try done.execute(arguments: [position, orderID])
            if disruptions[position] == nil { disruptions[position] = try Self.events(db, after: position - 1, limit: 1).first }
            // Delivered or cancelled before the announcement reached it: nothing to tell.
            guard let stored = disruptions[position], let order = try models.orders.get(orderID), order.status.isUndelivered else { continue }
            let updated = Reducers.disruption(order, stored, promises: engine.promises)
            models.orders.put(orderID, updated, position: max(order.timeline.last?.position ?? 0, stored.position))
            let customer = try models.customers.get(order.customerID)
            try write(engine.intents(for: stored, customer: customer, order: updated, ticket: nil, now: now, scope: orderID), stored)
            for action in Deadlines.actions(for: stored, order: updated, ticket: nil) { try timers.apply(action, position: stored.position) }
        }
    }

    static func fanoutPending(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM fanout)")) ?? false
    }
}
