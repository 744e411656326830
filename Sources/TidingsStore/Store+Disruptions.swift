import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Queues every order a disruption affects (`DisruptionScope`), as the orders stand at the
    /// disruption's place in the log. One statement, on indexes over open orders by region and
    /// by carrier (compared without regard to case).
    static func queueDisruption(_ db: Database, _ stored: StoredEvent) throws {
        guard let scope = DisruptionScope(stored.event.data) else { return }
        let (sql, arguments) = affectedOrders(scope)
        try db.execute(sql: "INSERT OR IGNORE INTO fanout (event_position, order_id) SELECT ?, id FROM (\(sql))",
                       arguments: [stored.position] + arguments)
    }

    /// The query for the orders a disruption affects, and its arguments.
    static func affectedOrders(_ scope: DisruptionScope) -> (sql: String, arguments: StatementArguments) {
        var sql = "SELECT id FROM orders WHERE \(DisruptionScope.statuses.sqlAnyOf("status"))"
        var arguments: StatementArguments = []
        if let region = scope.region {
            sql += " AND region = ? COLLATE NOCASE"
            arguments += [region]
        }
        if let carrier = scope.carrier {
            sql += " AND carrier = ? COLLATE NOCASE"
            arguments += [carrier]
        }
        return (sql, arguments)
    }

    static func fanoutPending(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM fanout)")) ?? false
    }
}

extension PipelineRun {
    /// Tells up to `limit` queued orders about their disruption: each order's model records the
    /// alert (or that it may be redundant, when the customer heard about a delay within the
    /// window), and the workflows decide the messages. Returns how many orders it handled.
    /// `yielding` stops it early (between customers) while HTTP requests wait for the writer.
    mutating func alertDisrupted(limit: Int, yielding: Yielding = .never) throws -> Int {
        let queued = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout ORDER BY event_position, order_id LIMIT ?
            """), arguments: [limit]).map { ($0["event_position"] as Int64, $0["order_id"] as String) }
        return try alert(queued, budget: limit, yielding: yielding)
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

    /// A customer's orders together, whichever of them the queue reached first: one message
    /// names them all (`Projector.projectDisruption`). Each order's own part (its model, its
    /// timers) is guarded on its own, so one that cannot be told is quarantined with the
    /// disruption's position and its id, and the others are told. Stops once `budget` orders
    /// were handled (a customer's orders are never split) and returns how many were. `again`
    /// is an operator's retry of an order quarantined before: it is told on its own.
    @discardableResult
    mutating func alert(_ queued: [(position: Int64, orderID: String)], budget: Int = .max, again: Bool = false,
                        yielding: Yielding = .never) throws -> Int {
        var handled = 0
        guard !queued.isEmpty else { return handled }
        // An earlier announcement can still be queued for an order only below the oldest queued
        // position: usually there is none, and the per-order lookup below is skipped.
        let oldestQueued = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MIN(event_position) FROM fanout")) ?? .max
        var asking = Yielding.Counter(yielding, fanOut: true)
        let done = try db.cachedStatement(sql: "DELETE FROM fanout WHERE event_position = ? AND order_id = ?")
        // By the customer's open orders first (orders_by_customer), then the queue's key: walking
        // a disruption's whole queue per order would be quadratic in its size.
        let siblings = try db.cachedStatement(sql: """
            SELECT o.id FROM orders o
            WHERE o.customer_id = (SELECT customer_id FROM orders WHERE id = ?2) AND \(DisruptionScope.statuses.sqlAnyOf("o.status"))
                AND EXISTS (SELECT 1 FROM fanout f WHERE f.event_position = ?1 AND f.order_id = o.id)
            ORDER BY o.id
            """)
        let earlier = try db.cachedStatement(sql: """
            SELECT event_position, order_id FROM fanout WHERE order_id = ? AND event_position < ? ORDER BY event_position
            """)
        var told: Set<HeldEvent.Key> = []
        // The announcement, read and decoded once for all the customers it reaches in this call.
        var announcements: [Int64: StoredEvent] = [:]
        for (position, orderID) in queued where handled < budget && !told.contains(HeldEvent.Key(position: position, order: orderID)) {
            if asking.shouldStop() {
                batch.yielded = true
                break
            }
            var group: [String] = []
            if again { group = [orderID] } else { try siblings.forEachRow(binding: position, orderID) { group.append(try $0.value(0)) } }
            // Told already with an earlier order of the same customer: nothing is left queued.
            guard !group.isEmpty else { continue }
            asking.count(group.count)
            // Each order meets its disruptions in log order: one still queued from an earlier
            // announcement is told that one first.
            if oldestQueued < position {
                for id in group {
                    let before = try Row.fetchAll(earlier, arguments: [id, position]).map { ($0["event_position"] as Int64, $0["order_id"] as String) }
                    if !before.isEmpty { handled += try alert(before) }
                }
            }
            handled += group.count
            var members: [String] = []
            for id in group {
                let key = HeldEvent.Key(position: position, order: id)
                told.insert(key)
                try done.execute(binding: position, id)
                if setAside[key] == nil { members.append(id) } else { try guarded(key) { _ in } }  // quarantined, saying why
            }
            guard let first = members.first else { continue }
            var projections: [Projection] = []
            var announcement: StoredEvent?
            try guarded(HeldEvent.Key(position: position, order: first)) { run in
                if announcements[position] == nil {
                    announcements[position] = try Store.loggedEvents(run.db, after: position - 1, limit: 1).first?.decoded()
                }
                guard let stored = announcements[position] else { return }
                announcement = stored
                let orders = try members.compactMap { try run.models.order($0) }
                guard let customerID = orders.first?.customerID else { return }
                projections = run.projector.projectDisruption(stored, to: orders, customer: try run.models.customer(customerID), now: run.now)
            }
            guard let stored = announcement else { continue }
            for projection in projections {
                guard let order = projection.order else { continue }
                try guarded(HeldEvent.Key(position: position, order: order.id)) { run in
                    let before = try run.models.order(order.id)
                    run.models.put(projection, position: max(before?.timeline.last?.position ?? 0, stored.position))
                    try run.place(projection.intents, stored)
                    for action in projection.timers { try run.timers.apply(action, position: stored.position) }
                }
            }
        }
        return handled
    }
}
