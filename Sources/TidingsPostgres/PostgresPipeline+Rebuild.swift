import Foundation
import PostgresNIO
import TidingsCore

/// `tidings rebuild` on PostgreSQL: the read models and timers made again from the log, up to
/// the pipeline's checkpoint, with the pipeline's own rules (`Replay`), and put in place in the
/// same transaction. It holds the pipeline's lock meanwhile, so every instance's pipeline
/// pauses (ingest goes on) and carries on from the checkpoint on the new tables: PostgreSQL
/// changes tables transactionally, so the copies and the swap SQLite needs are not needed.
extension PostgresPipeline {
    public func rebuild(engine: WorkflowEngine, now: Date) async throws -> RebuildSummary {
        try await backend.transaction("rebuilding the read models and timers") { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.pipeline.rawValue))", logger: logger)
            var pending = false
            for try await any in try await connection.run("SELECT EXISTS (SELECT 1 FROM fanout)", logger: logger).decode(Bool.self) { pending = any }
            guard !pending else {
                // The rebuilt orders would meet the disruption a second time.
                throw PostgresBackendError(.invalidRequest, """
                    a disruption is still being told to its orders: run tidings rebuild again once tidings status shows no fan-out pending
                    """)
            }
            let checkpoint = try await PostgresPipelineRun.checkpoint(on: connection, logger: logger)
            // Passed over as the pipeline passed them: quarantined for failing, not for a wait
            // that ran out (those still apply when their order or ticket comes).
            let skipping = try await Self.failedKeys(on: connection, logger: logger)
            var replay = Replay(engine: engine, skipping: skipping)
            var after: Int64 = 0
            while after < checkpoint {
                let page = try await log.events(after: after, limit: Int(min(2_000, checkpoint - after)), on: connection)
                guard !page.isEmpty else { break }
                for (index, result) in page.enumerated() {
                    let position = after + Int64(index) + 1
                    guard !skipping.contains(HeldEvent.Key(position: position)) else { continue }
                    _ = try replay.apply(try result.get(), now: now)
                }
                after += Int64(page.count)
            }
            // A deadline already due that the running daemons do not hold has fired (its event
            // is in the log) or was never set: firing it again would send an old apology.
            var running: Set<String> = []
            for try await (type, subject) in try await connection.run("SELECT type, subject FROM timers", logger: logger)
                .decode((String, String).self) { running.insert("\(type) \(subject)") }
            let timers = replay.timers.filter { $0.value.dueAt > now.timeIntervalSince1970 || running.contains("\($0.key.type) \($0.key.subject)") }
                .sorted { ($0.key.type, $0.key.subject) < ($1.key.type, $1.key.subject) }
            for table in ["customers", "orders", "tickets", "timers"] {
                try await connection.run(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            try await PostgresModels.write(replayed: replay, timers: timers, on: connection, logger: logger)
            // A customer forgotten after the checkpoint: the replay brought back what their
            // events left without the sealed fields. It goes again at once.
            var forgotten: [String] = []
            for try await customer in try await connection.run("""
                SELECT customer_id FROM forgotten WHERE entity = 'customer:' || customer_id
                """, logger: logger).decode(String.self) { forgotten.append(customer) }
            for customer in forgotten where replay.customers[customer] != nil
                || replay.orders.values.contains(where: { $0.model.customerID == customer })
                || replay.tickets.values.contains(where: { $0.model.customerID == customer }) {
                _ = try await PostgresErasure.purge(customer, now: now, on: connection, logger: logger)
            }
            func count(_ table: String) async throws -> Int {
                for try await n in try await connection.run(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                    .decode(Int.self) { return n }
                return 0
            }
            return RebuildSummary(events: replay.applied, checkpoint: checkpoint, customers: try await count("customers"),
                                  orders: try await count("orders"), tickets: try await count("tickets"), timers: try await count("timers"),
                                  waiting: replay.waiting.values.reduce(0) { $0 + $1.count }, generation: 0)
        }
    }
}
