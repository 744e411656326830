import Foundation
import GRDB
import TidingsCore

/// How far a rebuild has come: events applied of those up to the checkpoint it aims at.
public struct RebuildProgress: Sendable {
    public var phase: Phase
    public var events: Int
    public var position: Int64
    public var target: Int64

    public enum Phase: String, Sendable {
        case replaying = "replaying the log"
        case writing = "writing the new tables"
        case waitingForFanout = "waiting for a disruption's fan-out to finish"
    }
}

extension Store {
    /// The tables a rebuild replaces, each copied as `rebuild_<name>` and swapped in.
    static let rebuiltTables = ["customers", "orders", "tickets", "timers"]

    /// Rebuilds the read models and timers from the log into new tables and swaps them in, in
    /// one transaction, while a daemon may keep running: ingest goes on, and the pipeline
    /// carries on from its checkpoint on the new tables (the generation tells it to drop what
    /// it cached). The outbox is not touched, so nothing is sent again. Quarantined events
    /// stay out, as the pipeline left them; waiting ones wait, as they did. One rebuild at a
    /// time: a second waits for the first (they would share the `rebuild_*` tables).
    public func rebuild(engine: WorkflowEngine, now: Date, chunk: Int = 2_000, fanoutWait: Duration = .seconds(120),
                        progress: (RebuildProgress) -> Void = { _ in }) throws -> RebuildSummary
    {
        try LockFile.exclusively(LockFile.path(besideDatabase: path, suffix: ".rebuild.lock")) {
            // Every few seconds into the database too, for the daemon's /metrics.
            var shown = ContinuousClock.now - .seconds(60)
            defer { clearRebuildStanding() }
            do {
                return try rebuildHoldingTheLock(engine: engine, now: now, chunk: chunk, fanoutWait: fanoutWait) { standing in
                    progress(standing)
                    guard ContinuousClock.now - shown >= .seconds(2) else { return }
                    shown = ContinuousClock.now
                    recordRebuildStanding(standing, at: Date())
                }
            } catch {
                // The copies may hold what a forget since erased from the tables: they go.
                try? dropCopies()
                throw error
            }
        }
    }

    /// Drops the `rebuild_*` copies a rebuild left: one that failed, or died.
    func dropCopies() throws {
        try write("dropping a rebuild's copies") { db in
            for table in Self.rebuiltTables { try db.execute(sql: "DROP TABLE IF EXISTS rebuild_\(table)") }
        }
    }

    /// After a forget: what a rebuild that died left behind may hold the customer, so it goes,
    /// unless a rebuild is running (it drops or purges its copies itself).
    public func dropRebuildLeftovers() throws {
        _ = try LockFile.ifFree(LockFile.path(besideDatabase: path, suffix: ".rebuild.lock")) { try dropCopies() }
    }

    private func rebuildHoldingTheLock(engine: WorkflowEngine, now: Date, chunk: Int, fanoutWait: Duration,
                                       progress: (RebuildProgress) -> Void) throws -> RebuildSummary
    {
        let (target, skipping) = try read("reading where the pipeline stands") { db in
            (try Self.checkpoint(db, Self.pipelineCheckpoint), try Self.failedKeys(db))
        }
        var replay = Replay(engine: engine, skipping: skipping)
        var events = 0
        try replayLog(into: &replay, through: target, now: now, chunk: chunk) { position, _ in
            events += 1
            progress(RebuildProgress(phase: .replaying, events: events, position: position, target: target))
        }
        var position = target
        progress(RebuildProgress(phase: .writing, events: replay.applied, position: position, target: target))
        try write("creating the new read-model tables") { db in
            for table in Self.rebuiltTables { try Self.createCopy(db, of: table) }
        }
        try writeCopies(of: replay.takeChanges(), from: replay, chunk: chunk)

        // The pipeline went on meanwhile: follow it outside the swap until the gap is short,
        // so the swap's transaction, which ingest and the pipeline wait for, stays short.
        while true {
            let (checkpoint, failed) = try read("reading where the pipeline stands") { db in
                (try Self.checkpoint(db, Self.pipelineCheckpoint), try Self.failedKeys(db))
            }
            guard checkpoint - position > Int64(chunk) else { break }
            try Self.check(failed, against: replay.skipping, upTo: position)
            replay.skipping = failed
            try replayLog(into: &replay, after: position, through: checkpoint, now: now, chunk: chunk) { _, _ in }
            position = checkpoint
            try writeCopies(of: replay.takeChanges(), from: replay, chunk: chunk)
        }

        // The swap must not meet a disruption half told (its orders would meet it twice).
        let deadline = ContinuousClock.now + fanoutWait
        while true {
            let summary = try write("swapping the rebuilt read models in") { db -> RebuildSummary? in
                guard try !Self.fanoutPending(db) else { return nil }
                let checkpoint = try Self.checkpoint(db, Self.pipelineCheckpoint)
                let failed = try Self.failedKeys(db)
                try Self.check(failed, against: replay.skipping, upTo: position)
                replay.skipping = failed
                var rows = try Self.loggedEvents(db, after: position, limit: Int(max(0, checkpoint - position)))
                rows.removeAll { $0.position > checkpoint }
                for row in rows { try Self.apply(row, to: &replay, now: now) }
                try Self.write(replay.takeChanges(), from: replay, db: db)
                // A timer already due that the running daemon does not hold has fired (its
                // event is in the log) or was never set (deadlines that had passed when the
                // timers table was made): firing it again would send an old apology.
                try db.execute(sql: """
                    DELETE FROM rebuild_timers WHERE due_at <= ? AND NOT EXISTS (
                        SELECT 1 FROM timers t WHERE t.type = rebuild_timers.type AND t.subject = rebuild_timers.subject)
                    """, arguments: [now.timeIntervalSince1970])
                try Self.swapCopies(db)
                // A customer forgotten after the pipeline's checkpoint was purged by `tidings
                // forget`; the pipeline has not met the event yet, so the replay brought back
                // what their events left without the sealed fields. It goes again at once.
                for customer in try String.fetchAll(db, sql: """
                    SELECT customer_id FROM forgotten WHERE entity = 'customer:' || customer_id AND (
                        EXISTS (SELECT 1 FROM customers c WHERE c.id = forgotten.customer_id) OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = forgotten.customer_id)
                        OR EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = forgotten.customer_id))
                    """) {
                    _ = try Self.purge(db, customerID: customer, now: now)
                }
                let generation = try Self.checkpoint(db, Self.readModelsGeneration) + 1
                try Self.setCheckpoint(db, Self.readModelsGeneration, generation)
                func count(_ table: String) throws -> Int { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
                let timers = try count("timers")
                return RebuildSummary(events: replay.applied, checkpoint: checkpoint, customers: try count("customers"),
                                      orders: try count("orders"), tickets: try count("tickets"), timers: timers,
                                      waiting: replay.waiting.values.reduce(0) { $0 + $1.count }, generation: generation)
            }
            if let summary { return summary }
            guard ContinuousClock.now < deadline else {
                throw StoreError(.busy, """
                    a disruption is still being told to its orders after \(fanoutWait): run tidings rebuild again once \
                    tidings status shows no fan-out pending
                    """)
            }
            progress(RebuildProgress(phase: .waitingForFanout, events: replay.applied, position: position, target: target))
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// The events replayed so far were replayed with `used` set aside: if the pipeline has
    /// quarantined another of them since (or `tidings events retry` released one), the models
    /// would differ from what the pipeline holds, and the rebuild starts again.
    static func check(_ failed: Set<HeldEvent.Key>, against used: Set<HeldEvent.Key>, upTo position: Int64) throws {
        guard failed.filter({ $0.position <= position }) == used.filter({ $0.position <= position }) else {
            throw StoreError(.busy, """
                events up to position \(position) were quarantined or retried while the rebuild ran: nothing was swapped in; \
                run tidings rebuild again
                """)
        }
    }

    /// The log up to `target`, chunk by chunk, through a replay. After each event, `each`
    /// gets its position and the intents it (and what it released) decided.
    public func replayLog(into replay: inout Replay, after start: Int64 = 0, through target: Int64, now: Date, chunk: Int = 2_000,
                          each: (Int64, [NotificationIntent]) throws -> Void) throws
    {
        var position = start
        while position < target {
            let rows = try read("reading the log") { db in try Self.loggedEvents(db, after: position, limit: chunk) }
            guard !rows.isEmpty else { break }
            for row in rows where row.position <= target {
                try each(row.position, try Self.apply(row, to: &replay, now: now))
            }
            position = min(rows.last?.position ?? target, target)
        }
    }

    /// The events quarantined for failing, as a replay passes them over.
    public func failedEvents() throws -> Set<HeldEvent.Key> {
        try read("reading the quarantined events") { db in try Self.failedKeys(db) }
    }

    /// One logged event into the replay; one the pipeline quarantined is not even decoded (it
    /// may be why it was quarantined).
    @discardableResult
    static func apply(_ row: LoggedEvent, to replay: inout Replay, now: Date) throws -> [NotificationIntent] {
        guard !replay.skipping.contains(HeldEvent.Key(position: row.position)) else { return [] }
        return try replay.apply(row.decoded(), now: now)
    }

    /// Events (or one order of a disruption) quarantined because they failed: a rebuild
    /// passes them over, as the pipeline did. Those quarantined only because their wait ran
    /// out are not among them: they still apply when their order or ticket comes. (One that
    /// failed when it was released keeps what it waited for, with the failure as its reason.)
    static func failedKeys(_ db: Database) throws -> Set<HeldEvent.Key> {
        let rows = try Row.fetchAll(db, sql: """
            SELECT position, scope FROM held_events
            WHERE kind = ? AND (waiting_for IS NULL OR reason NOT LIKE '\(HeldEventWriter.gaveUp)%')
            """, arguments: [HeldEvent.Kind.quarantined.rawValue])
        return Set(rows.map { row in
            let scope: String = row["scope"]
            return HeldEvent.Key(position: row["position"], order: scope.isEmpty ? nil : scope)
        })
    }

    /// Writes the copies in chunks of their own, so the daemon's writes go on in between.
    func writeCopies(of changes: Replay.Changes, from replay: Replay, chunk: Int) throws {
        var pending = changes
        while !pending.isEmpty {
            var part = Replay.Changes()
            var room = chunk
            func take<T: Hashable>(_ set: inout Set<T>) -> Set<T> {
                var taken: Set<T> = []
                while room > 0, let next = set.popFirst() {
                    taken.insert(next)
                    room -= 1
                }
                return taken
            }
            part.customers = take(&pending.customers)
            part.orders = take(&pending.orders)
            part.tickets = take(&pending.tickets)
            part.timers = take(&pending.timers)
            try write("writing the rebuilt read models") { db in try Self.write(part, from: replay, db: db) }
        }
    }

    /// Writes what changed into the copies: models as the pipeline writes them, timers as
    /// the timers table holds them (a slot without a timer is deleted).
    static func write(_ changes: Replay.Changes, from replay: Replay, db: Database) throws {
        try write(changes.customers, of: replay.customers, as: .customers, db: db)
        try write(changes.orders, of: replay.orders, as: .orders, db: db)
        try write(changes.tickets, of: replay.tickets, as: .tickets, db: db)
        let schedule = try db.cachedStatement(sql: """
            INSERT INTO rebuild_timers (type, subject, due_at, scheduled_by) VALUES (?, ?, ?, ?)
            ON CONFLICT (type, subject) DO UPDATE SET due_at = excluded.due_at, scheduled_by = excluded.scheduled_by
            """)
        let cancel = try db.cachedStatement(sql: "DELETE FROM rebuild_timers WHERE type = ? AND subject = ?")
        for slot in changes.timers {
            if let timer = replay.timers[slot] {
                try schedule.execute(arguments: [slot.type, slot.subject, timer.dueAt, timer.scheduledBy])
            } else {
                try cancel.execute(arguments: [slot.type, slot.subject])
            }
        }
    }

    static func write<Model>(_ ids: Set<String>, of models: [String: Replay.Stamped<Model>], as table: ModelTable<Model>, db: Database) throws {
        guard !ids.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: table.upsert(into: "rebuild_\(table.name)"))
        let delete = try db.cachedStatement(sql: "DELETE FROM rebuild_\(table.name) WHERE id = ?")
        for id in ids {
            // Gone from the replay: its customer was forgotten.
            guard let stamped = models[id] else {
                try delete.execute(arguments: [id])
                continue
            }
            try table.write(upsert, id, stamped.model, columns: table.values(stamped.model), position: stamped.position)
        }
    }

    /// An empty copy of a table, as its schema stands now (`rebuild_<name>`), without indexes:
    /// they are made once the rows are in.
    static func createCopy(_ db: Database, of table: String) throws {
        guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
              let name = sql.range(of: table)
        else {
            throw StoreError(.invalidRequest, "the \(table) table is missing from the database: it cannot be rebuilt")
        }
        try db.execute(sql: "DROP TABLE IF EXISTS rebuild_\(table)")
        try db.execute(sql: sql.replacingCharacters(in: name, with: "rebuild_\(table)"))
    }

    /// Puts the copies in place of the tables, with the tables' indexes made anew.
    static func swapCopies(_ db: Database) throws {
        for table in rebuiltTables {
            let indexes = try String.fetchAll(db, sql: """
                SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL
                """, arguments: [table])
            try db.execute(sql: "DROP TABLE \(table)")
            try db.execute(sql: "ALTER TABLE rebuild_\(table) RENAME TO \(table)")
            for index in indexes { try db.execute(sql: index) }
        }
    }
}
