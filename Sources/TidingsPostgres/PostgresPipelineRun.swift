import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// One pipeline batch inside its transaction on PostgreSQL: events into read models, workflow
/// intents into the outbox, timers, held events and the checkpoint, committed together. The
/// same steps as the SQLite backend's, asked of the database asynchronously; the decisions
/// (the `Projector`, `OutboxPlacement`) are Core's, shared by both.
struct PostgresPipelineRun {
    let connection: PostgresConnection
    let log: PostgresLog
    let engine: WorkflowEngine
    let projector: Projector
    let now: Date
    let setAside: [HeldEvent.Key: String]
    var models = PostgresModels()
    var batch = PipelineBatch()
    var fanoutQueued = false
    /// Whether any event waits for its order or ticket, or any message for its customer: asked
    /// once per batch, so that the common batch, with none, asks nothing per event.
    var anyWaiting = true
    var anyParked = true
    /// The batch's timer changes, written once at its end (`PostgresTimerChanges`).
    var timerChanges = PostgresTimerChanges()

    init(connection: PostgresConnection, log: PostgresLog, engine: WorkflowEngine, now: Date, setAside: [HeldEvent.Key: String]) {
        self.connection = connection
        self.log = log
        self.engine = engine
        projector = Projector(engine: engine)
        self.now = now
        self.setAside = setAside
    }

    var logger: Logger { log.logger }
    var t: Double { now.timeIntervalSince1970 }

    static let checkpointName = "pipeline"

    /// Applies up to `limit` events after the checkpoint; once caught up with the log, waits
    /// that have run out end. A batch that `yielding` stops early commits what it applied.
    mutating func run(limit: Int, fanoutLimit: Int, yielding: Yielding) async throws -> PipelineBatch {
        let from = try await Self.checkpoint(on: connection, logger: logger)
        let rows = try await log.events(after: from, limit: limit, on: connection)
        batch.checkpoint = from
        fanoutQueued = try await fanoutPending()
        (anyWaiting, anyParked) = try await waitsExist()
        // A model that does not read is left out here: the event that asks for it fails on its
        // own, and is quarantined (`guarded`), rather than the whole batch.
        try? await models.prefetch(rows.compactMap { try? $0.get() }, on: connection, logger: logger)
        var last: Int64?
        var asking = Yielding.Counter(yielding)
        for (index, row) in rows.enumerated() {
            if asking.shouldStop() {
                batch.yielded = true
                break
            }
            let position = (try? row.get().position) ?? from + Int64(index) + 1
            try await guarded(HeldEvent.Key(position: position)) { run in try await run.apply(row.get()) }
            asking.count()
            batch.processed += 1
            last = position
        }
        let eventsYielded = batch.yielded
        if fanoutLimit > 0 {
            if !batch.yielded { batch.disruptionAlerts = try await alertDisrupted(limit: fanoutLimit, yielding: yielding) }
            batch.fanoutPending = try await fanoutPending()
        }
        // A fan-out's chunks may stop early (for requests): waits still end.
        if rows.count < limit, !eventsYielded { try await endWaits() }
        try await models.flush(on: connection, logger: logger)
        try await timerChanges.write(on: connection, logger: logger)
        if let last {
            try await connection.run("""
                INSERT INTO checkpoints (name, position) VALUES (\(Self.checkpointName), \(last))
                ON CONFLICT (name) DO UPDATE SET position = excluded.position
                """, logger: logger)
            batch.checkpoint = last
        }
        return batch
    }

    static func checkpoint(on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await position in try await connection.run("SELECT position FROM checkpoints WHERE name = \(checkpointName)", logger: logger)
            .decode(Int64.self) { return position }
        return 0
    }

    /// Runs `body` for one event. An error that belongs to the event, not to the database,
    /// becomes a `EventFailure` naming it; one set aside already is quarantined.
    mutating func guarded(_ key: HeldEvent.Key, _ body: (inout PostgresPipelineRun) async throws -> Void) async throws {
        if let reason = setAside[key] {
            try await quarantine(key, reason: reason)
            batch.quarantined.append(HeldEvent.Note(key: key, reason: reason))
            return
        }
        do {
            try await body(&self)
        } catch let failure as EventFailure {
            throw failure
        } catch where Self.belongsToTheEvent(error) {
            throw EventFailure(key: key, reason: "\(error)")
        }
    }

    /// A lost connection, a serialization failure or a full disk is retried as a whole:
    /// quarantining events for it would set aside good ones. Bad data, broken constraints and
    /// values past a limit (SQLSTATE classes 22, 23 and 54), and every error of our own, are
    /// about the event.
    static func belongsToTheEvent(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return true }
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23") || state.hasPrefix("54")
    }

    /// Carries out what the projector decided for one event.
    mutating func apply(_ stored: StoredEvent) async throws {
        let event = stored.event
        if fanoutQueued, event.type.hasPrefix("order."), let subject = event.subject {
            // An order meets a disruption queued before this event first: log order, whatever the chunk size.
            try await alertQueued(orderID: subject)
        }
        let projection = try await project(stored)
        switch projection.outcome {
        case .disruption:
            // The orders it affects are chosen from the table: bring it up to date first.
            try await models.flush(on: connection, logger: logger)
            try await queueDisruption(stored)
            fanoutQueued = true
            return
        case .forgotten(let customer):
            try await forget(customer)
            return
        case .waiting(let entity, let reason):
            try await wait(stored.position, for: entity, reason: reason, until: now.addingTimeInterval(engine.customerWait))
            batch.waiting += 1
            return
        case .applied:
            break
        }
        models.put(projection, position: stored.position)
        if let receipt = projection.receipt {
            var customer = projection.customer
            if customer == nil {
                try await models.load(.customers, [receipt.customerID], on: connection, logger: logger)
                customer = models.customers[receipt.customerID] ?? nil
            }
            try await receive(receipt, stored, customer: customer)
        }
        try await place(projection.intents, stored)
        for action in projection.timers where timerChanges.apply(action, position: stored.position) {
            batch.timersScheduled += 1
        }
        if let created = projection.created, anyWaiting {
            try await releaseWaiting(for: created)
        }
        if let customer = projection.customerKnown, anyParked {
            try await releaseParked(for: customer)
        }
    }

    /// `tidings forget` purged the customer when it recorded the event; what the pipeline
    /// applied of theirs since (events logged before it) goes now, with what this batch has
    /// not written yet.
    mutating func forget(_ customerID: String) async throws {
        try await models.flush(on: connection, logger: logger)
        try await timerChanges.write(on: connection, logger: logger)
        let purged = try await PostgresErasure.purge(customerID, now: now, on: connection, logger: logger)
        models.forget(customers: [customerID], orders: purged.orderIDs, tickets: purged.ticketIDs)
    }

    /// The projector's answer, loading the models it asks for that the batch has not loaded.
    mutating func project(_ stored: StoredEvent) async throws -> Projection {
        while true {
            var lookup = PostgresModels.Lookup(models: models)
            do {
                return try projector.project(stored, models: &lookup, now: now)
            } catch let miss as PostgresModels.Miss {
                try await models.load(miss.kind, [miss.id], on: connection, logger: logger)
            }
        }
    }
}
