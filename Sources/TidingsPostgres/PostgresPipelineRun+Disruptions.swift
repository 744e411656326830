import Foundation
import PostgresNIO
import TidingsCore

extension PostgresPipelineRun {
    /// Queues every order a disruption affects (`DisruptionScope`), as the orders stand at the
    /// disruption's place in the log, in one statement on the indexes over open orders by
    /// region and by carrier (compared without regard to case).
    func queueDisruption(_ stored: StoredEvent) async throws {
        guard let scope = DisruptionScope(stored.event.data) else { return }
        var sql = """
            INSERT INTO fanout (event_position, order_id)
            SELECT $1, id FROM orders WHERE status IN \(DisruptionScope.statuses.sqlList)
            """
        var binds = PostgresBindings()
        binds.append(stored.position)
        if let region = scope.region {
            binds.append(region)
            sql += " AND lower(region) = lower($\(binds.count))"
        }
        if let carrier = scope.carrier {
            binds.append(carrier)
            sql += " AND lower(carrier) = lower($\(binds.count))"
        }
        try await connection.run(PostgresQuery(unsafeSQL: sql + " ON CONFLICT DO NOTHING", binds: binds), logger: logger)
    }

    func fanoutPending() async throws -> Bool {
        for try await pending in try await connection.run("SELECT EXISTS (SELECT 1 FROM fanout)", logger: logger).decode(Bool.self) {
            return pending
        }
        return false
    }

    func queue(_ query: PostgresQuery) async throws -> [(position: Int64, orderID: String)] {
        var queued: [(position: Int64, orderID: String)] = []
        for try await (position, order) in try await connection.run(query, logger: logger).decode((Int64, String).self) {
            queued.append((position, order))
        }
        return queued
    }

    /// Tells up to `limit` queued orders about their disruption; returns how many it handled.
    mutating func alertDisrupted(limit: Int, yielding: Yielding) async throws -> Int {
        let queued = try await queue("SELECT event_position, order_id FROM fanout ORDER BY event_position, order_id LIMIT \(limit)")
        return try await alert(queued, budget: limit, yielding: yielding)
    }

    /// Before a later event about an order is applied, the disruptions still queued for it are
    /// applied first: each order meets its events in log order.
    mutating func alertQueued(orderID: String) async throws {
        let queued = try await queue("SELECT event_position, order_id FROM fanout WHERE order_id = \(orderID) ORDER BY event_position")
        try await alert(queued)
    }

    /// A customer's orders together, whichever of them the queue reached first: one message
    /// names them all (`Projector.projectDisruption`). Each order's own part is guarded on its
    /// own, so one that cannot be told is quarantined with the disruption's position and its
    /// id. Stops once `budget` orders were handled (a customer's orders are never split).
    @discardableResult
    mutating func alert(_ queued: [(position: Int64, orderID: String)], budget: Int = .max, yielding: Yielding = .never) async throws -> Int {
        var handled = 0
        guard !queued.isEmpty else { return handled }
        var oldestQueued = Int64.max
        for try await oldest in try await connection.run("SELECT MIN(event_position) FROM fanout", logger: logger).decode(Int64?.self) {
            oldestQueued = oldest ?? .max
        }
        var asking = Yielding.Counter(yielding, fanOut: true)
        var told: Set<[String]> = []
        for (position, orderID) in queued where handled < budget && !told.contains(["\(position)", orderID]) {
            if asking.shouldStop() {
                batch.yielded = true
                break
            }
            var group: [String] = []
            for try await id in try await connection.run("""
                SELECT o.id FROM orders o
                WHERE o.customer_id = (SELECT customer_id FROM orders WHERE id = \(orderID)) AND o.status IN \(unescaped: DisruptionScope.statuses.sqlList)
                    AND EXISTS (SELECT 1 FROM fanout f WHERE f.event_position = \(position) AND f.order_id = o.id)
                ORDER BY o.id
                """, logger: logger).decode(String.self) { group.append(id) }
            // Told already with an earlier order of the same customer: nothing is left queued.
            guard !group.isEmpty else { continue }
            asking.count(group.count)
            // Each order meets its disruptions in log order: one still queued from an earlier
            // announcement is told that one first.
            if oldestQueued < position {
                for id in group {
                    let before = try await queue("""
                        SELECT event_position, order_id FROM fanout WHERE order_id = \(id) AND event_position < \(position) ORDER BY event_position
                        """)
                    if !before.isEmpty { handled += try await alert(before) }
                }
            }
            handled += group.count
            var members: [String] = []
            for id in group {
                told.insert(["\(position)", id])
                try await connection.run("DELETE FROM fanout WHERE event_position = \(position) AND order_id = \(id)", logger: logger)
                let key = HeldEvent.Key(position: position, order: id)
                if setAside[key] == nil { members.append(id) } else { try await guarded(key) { _ in } }  // quarantined, saying why
            }
            guard let first = members.first else { continue }
            var projections: [Projection] = []
            var announcement: StoredEvent?
            try await guarded(HeldEvent.Key(position: position, order: first)) { run in
                guard let stored = try await run.log.events(after: position - 1, limit: 1, on: run.connection).first?.get() else { return }
                announcement = stored
                try await run.models.load(.orders, members, on: run.connection, logger: run.logger)
                let orders = members.compactMap { run.models.orders[$0] ?? nil }
                guard let customerID = orders.first?.customerID else { return }
                try await run.models.load(.customers, [customerID], on: run.connection, logger: run.logger)
                projections = run.projector.projectDisruption(stored, to: orders, customer: run.models.customers[customerID] ?? nil, now: run.now)
            }
            guard let stored = announcement else { continue }
            for projection in projections {
                guard let order = projection.order else { continue }
                try await guarded(HeldEvent.Key(position: position, order: order.id)) { run in
                    let before = run.models.orders[order.id] ?? nil
                    run.models.put(projection, position: max(before?.timeline.last?.position ?? 0, stored.position))
                    try await run.place(projection.intents, stored)
                    for action in projection.timers { run.timerChanges.apply(action, position: stored.position) }
                }
            }
        }
        return handled
    }
}
