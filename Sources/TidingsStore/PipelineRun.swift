import Foundation
import GRDB
import TidingsCore

/// One pipeline batch inside its write transaction: events into read models, workflow intents
/// into the outbox, timers, held events and the checkpoint, all committed together.
struct PipelineRun {
    let db: Database
    let engine: WorkflowEngine
    let projector: Projector
    let now: Date
    var models: ReadModelCache
    let outbox: OutboxWriter
    let timers: TimerWriter
    let held: HeldEventWriter
    /// What failed on an earlier attempt at this batch, with why: quarantined this time.
    let setAside: [HeldEvent.Key: String]
    var batch = PipelineBatch()
    var fanoutQueued = false
    /// The read-model tables' generation this batch works on (a rebuild counts it up).
    let generation: Int64
    /// This batch's events and models, read ahead while the batch before was applied.
    let ahead: Lookahead?
    /// Whether a message was parked, or an event waited for an order or ticket, when the batch
    /// began: most of the time none is, and then a customer's, order's or ticket's event asks
    /// nothing about them (this batch's own are counted in `batch`).
    let parkedBefore: Bool
    let waitingBefore: Bool

    init(db: Database, engine: WorkflowEngine, now: Date, cache: ModelCache, setAside: [HeldEvent.Key: String] = [:],
         ahead: Lookahead? = nil) throws {
        self.db = db
        self.engine = engine
        projector = Projector(engine: engine)
        self.now = now
        self.setAside = setAside
        self.ahead = ahead
        generation = try Store.checkpoint(db, Store.readModelsGeneration)
        let committed = cache.snapshot(generation: generation).tables
        if let (aheadModels, stale) = ahead?.models(generation: generation, cache: cache) {
            models = ReadModelCache(db: db, committed: committed, ahead: aheadModels, stale: stale)
        } else {
            models = ReadModelCache(db: db, committed: committed)
        }
        outbox = try OutboxWriter(db: db, now: now, engine: engine)
        timers = try TimerWriter(db: db)
        held = try HeldEventWriter(db: db, now: now)
        parkedBefore = try outbox.anyParked()
        waitingBefore = try held.anyWaiting()
    }

    /// What this batch read and wrote, for the shared cache once it commits.
    var loaded: ModelCache.Snapshot { ModelCache.Snapshot(tables: models.loaded, generation: generation, written: models.written) }

    /// Applies up to `limit` events after the checkpoint, then tells up to `fanoutLimit` orders
    /// about a disruption, so a disruption of 100,000 orders is worked off between batches.
    /// Once caught up with the log, waits that have run out end.
    /// A batch that `yielding` stops early commits the events applied so far and leaves the
    /// fan-out (or the rest of it) and the waits to the next one.
    mutating func run(limit: Int, fanoutLimit: Int, yielding: Yielding = .never) throws -> PipelineBatch {
        let from = try Store.checkpoint(db, Store.pipelineCheckpoint)
        let rows = try Store.loggedEvents(db, after: from, limit: limit)
        batch.checkpoint = from
        fanoutQueued = try Store.fanoutPending(db)
        models.reserve(rows.count)
        var last: Int64?
        var asking = Yielding.Counter(yielding)
        for row in rows {
            if asking.shouldStop() {
                batch.yielded = true
                break
            }
            try guarded(HeldEvent.Key(position: row.position)) { run in try run.apply(run.ahead?.event(row) ?? row.decoded()) }
            asking.count()
            batch.processed += 1
            last = row.position
        }
        let eventsYielded = batch.yielded
        if fanoutLimit > 0 {
            if !batch.yielded { batch.disruptionAlerts = try alertDisrupted(limit: fanoutLimit, yielding: yielding) }
            batch.fanoutPending = try Store.fanoutPending(db)
        }
        // A fan-out's chunks nearly all stop early while alerts are sent: waits still end.
        if rows.count < limit, !eventsYielded { try endWaits() }
        try models.flush()
        if let last {
            try Store.setCheckpoint(db, Store.pipelineCheckpoint, last)
            batch.checkpoint = last
        }
        batch.retriesRequested = try Store.retriesRequested(db)
        return batch
    }

    /// Applies one event quarantined or left waiting before, out of log order, at an
    /// operator's request (`tidings events retry`).
    mutating func reapply(_ key: HeldEvent.Key) throws {
        try held.remove(key)
        if let orderID = key.order {
            try alert([(key.position, orderID)], again: true)
        } else {
            guard let row = try Store.loggedEvents(db, after: key.position - 1, limit: 1).first, row.position == key.position else {
                throw StoreError(.invalidRequest, "there is no event at position \(key.position)")
            }
            // Applied now, it would bring back what the forget took away (and the pipeline has
            // passed the forget): it stays quarantined, saying why.
            if let event = try? row.decoded().event, event.type != PersonalData.forgottenType,
               let (_, customer) = try Store.forgotten(db, event) {
                throw EventFailure(key: key, reason: "not applied: its customer \(customer) was forgotten (tidings forget)")
            }
            try guarded(key) { run in try run.apply(row.decoded()) }
        }
        try models.flush()
    }

    /// Runs `body` for one event (or fan-out order). An error that belongs to the event, not to
    /// the database, becomes an `EventFailure` naming it; one set aside already is quarantined.
    mutating func guarded(_ key: HeldEvent.Key, _ body: (inout PipelineRun) throws -> Void) throws {
        if let reason = setAside[key] {
            try held.quarantine(key, reason: reason)
            batch.quarantined.append(HeldEvent.Note(key: key, reason: reason))
            return
        }
        do {
            try body(&self)
        } catch let failure as EventFailure {
            throw failure  // an event released by this one failed: it carries its own position
        } catch where Self.belongsToTheEvent(error) {
            throw EventFailure(key: key, reason: "\(error)")
        }
    }

    /// A full disk, a busy or broken database, is retried as a whole: quarantining events for it
    /// would set aside good ones. What remains (a row that does not decode, a value the JSON
    /// writer cannot write, a key conflict, a constraint) is about the event.
    static func belongsToTheEvent(_ error: any Error) -> Bool {
        guard let database = error as? DatabaseError else { return true }
        switch database.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE: return true
        default: return false
        }
    }

    /// Carries out what the projector decided for one event.
    mutating func apply(_ stored: StoredEvent) throws {
        let event = stored.event
        if fanoutQueued, event.type.hasPrefix("order."), let subject = event.subject {
            // An order meets a disruption queued before this event first: log order, whatever the chunk size.
            try alertQueued(orderID: subject)
        }
        let projection = try projector.project(stored, models: &models, now: now)
        switch projection.outcome {
        case .disruption:
            // The orders it affects are chosen from the table: bring it up to date first.
            try models.flush()
            try Store.queueDisruption(db, stored)
            fanoutQueued = true
            return
        case .forgotten(let customer):
            try forget(customer)
            return
        case .waiting(let entity, let reason):
            try held.wait(stored.position, for: entity, reason: reason, until: now.addingTimeInterval(engine.customerWait))
            batch.waiting += 1
            return
        case .applied:
            break
        }
        models.put(projection, position: stored.position)
        if let receipt = projection.receipt {
            try receive(receipt, stored, customer: projection.customer ?? models.customers.get(receipt.customerID))
        }
        try place(projection.intents, stored)
        for action in projection.timers where try timers.apply(action, position: stored.position) {
            batch.timersScheduled += 1
        }
        if let created = projection.created {
            try releaseWaiting(for: created)
        }
        if let customer = projection.customerKnown {
            try releaseParked(for: customer)
        }
    }

    /// `tidings forget` purged the customer when it recorded the event; what the pipeline
    /// applied of theirs since (events logged before it) goes now, from the tables and the cache.
    mutating func forget(_ customerID: String) throws {
        try models.flush()
        let purged = try Store.purge(db, customerID: customerID, now: now)
        models.customers.evict([customerID])
        models.orders.evict(purged.orderIDs)
        models.tickets.evict(purged.ticketIDs)
    }

    /// The intents of one event share one context (`WorkflowEngine.intents`): encoded once.
    mutating func place(_ intents: [NotificationIntent], _ stored: StoredEvent) throws {
        guard let first = intents.first else { return }
        let context = try first.context.encoded()
        for intent in intents {
            let placement = try outbox.place(intent, eventType: stored.event.type, eventAt: stored.recordedAt, context: context)
            batch.count(placement, first: ClaimPriority(category: intent.category, eventType: stored.event.type) == .first)
        }
    }

    mutating func count(_ placed: PipelineBatch.Placed?) { batch.count(placed) }
}

extension PipelineRun {
    /// Applies, in log order, the events that were waiting for this order or ticket (also
    /// those whose wait ran out and that were quarantined for it).
    mutating func releaseWaiting(for entity: String) throws {
        guard waitingBefore || batch.waiting > 0 else { return }
        for position in try held.waiting(for: entity) {
            try guarded(HeldEvent.Key(position: position)) { run in
                try run.held.remove(HeldEvent.Key(position: position))
                guard let row = try Store.loggedEvents(run.db, after: position - 1, limit: 1).first, row.position == position else { return }
                try run.apply(row.decoded())
                run.batch.released += 1
            }
        }
    }

    /// Routes the messages parked for this customer, in log order, now that they are known.
    /// One that cannot be routed is skipped with the reason, in a savepoint of its own: the
    /// customer's event itself must still apply.
    mutating func releaseParked(for customer: Customer) throws {
        guard parkedBefore || batch.parked > 0 else { return }
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT m.id, m.key, m.workflow, m.category, m.subject_id, m.event_position, m.template, c.context, m.event_at, e.type
            FROM messages m JOIN events e ON e.position = m.event_position JOIN message_contexts c ON c.message_id = m.id
            WHERE m.customer_id = ? AND m.state = '\(MessageState.parked.rawValue)' ORDER BY m.event_position, m.id
            """), arguments: [customer.id])
        for row in rows {
            let id: Int64 = row["id"]
            do {
                let parked = ParkedMessage(
                    key: row["key"], workflow: row["workflow"], customerID: customer.id, subjectID: row["subject_id"],
                    eventPosition: row["event_position"], eventType: row["type"], template: row["template"],
                    context: try JSONValue.parse(row["context"] as Data))
                let order = try parked.subjectID.flatMap { try models.orders.get($0) }
                let ticket = try parked.context.value(atPath: "ticket.id")?.stringValue.flatMap { try models.tickets.get($0) }
                let intent = engine.release(parked, category: Workflow.Category(rawValue: row["category"]) ?? .transactional,
                                            customer: customer, order: order, ticket: ticket, now: now)
                let eventAt = Date(timeIntervalSince1970: row["event_at"] ?? now.timeIntervalSince1970)
                var placement: PipelineBatch.Placed?
                try db.inSavepoint {
                    placement = try outbox.place(intent, eventType: parked.eventType, eventAt: eventAt, replacing: id)
                    return .commit
                }
                count(placement)
                batch.releasedMessages += 1
            } catch where Self.belongsToTheEvent(error) {
                try outbox.skipParked(id, reason: OutboxPlacement.unroutable(customerID: customer.id, error: error))
                batch.skipped += 1
            }
        }
    }

    /// Ends the waits that ran out: parked messages are skipped with the reason, and events
    /// waiting for an order or ticket are quarantined (still released if it comes later).
    mutating func endWaits() throws {
        batch.parkedExpired = try outbox.expireParked()
        batch.quarantined += try held.expireWaits()
    }
}
