import Foundation
import GRDB
import Synchronization
import TidingsCore

/// The next batch's events decoded, and the models they name read from their rows, on a WAL
/// reader while the writer applies the batch before: in a catch-up nearly every event's models
/// miss the cache (an entity's events lie tens of thousands of positions apart), and reading
/// and decoding them was a quarter of the writer's time. Now the other core does it.
///
/// What it read is a snapshot that may predate the latest commits, so the writer checks it:
/// an event is used only if its row still has the key it was decoded with (a forget deletes
/// the key), and a model only if the tables' generation is the same (a rebuild or a forget from
/// another process counts it up) and no commit since wrote it (`ModelCache.written(since:)`).
/// What fails a check, or was not read ahead, is read on the writer as before.
struct Lookahead: Sendable {
    /// Every commit up to this one is in what was read (`ModelCache.sequence`).
    var sequence: UInt64
    var generation: Int64
    var events: [Int64: Decoded] = [:]
    var models = ModelCache.Tables()

    struct Decoded: Sendable {
        var row: LoggedEvent
        var event: StoredEvent
    }

    /// The event of `row`: as read ahead when its row is unchanged, else decoded now.
    func event(_ row: LoggedEvent) throws -> StoredEvent {
        if let decoded = events[row.position], decoded.row == row { return decoded.event }
        return try row.decoded()
    }

    /// The models read ahead that the batch at `generation` may use, and those it must not.
    func models(generation: Int64, cache: ModelCache) -> (ahead: ModelCache.Tables, stale: ModelCache.Written)? {
        guard self.generation == generation, let stale = cache.written(since: sequence) else { return nil }
        return (models, stale)
    }

    /// Reads the `limit` events after the first `skipping` ones after `position`, and the
    /// models they name that the shared cache does not hold. An event or model that does not
    /// read is left out: the writer meets it and deals with it as it always has.
    /// `fanout`: the orders a disruption's fan-out tells next (`FanoutAhead`), read as well.
    static func read(_ db: Database, after position: Int64?, skipping: Int, limit: Int, fanout: FanoutAhead? = nil, sequence: UInt64,
                     cache: ModelCache) throws -> Lookahead {
        let generation = try Store.checkpoint(db, Store.readModelsGeneration)
        var ahead = Lookahead(sequence: sequence, generation: generation)
        let committed = cache.tables(generation: generation)
        var reader = ModelReader(db: db, committed: committed)
        if let position {
            for row in try Store.loggedEvents(db, after: position, skipping: skipping, limit: limit) {
                guard let event = try? row.decoded() else { continue }
                ahead.events[row.position] = Decoded(row: row, event: event)
                try reader.read(Projector.modelsNamed(by: event.event))
            }
        }
        if let fanout {
            var names = ModelNames()
            names.orders = try String.fetchAll(db.cachedStatement(sql: """
                SELECT order_id FROM fanout ORDER BY event_position, order_id LIMIT ? OFFSET ?
                """), arguments: [fanout.limit, fanout.skipping])
            try reader.read(names)
        }
        ahead.models = reader.read
        return ahead
    }
}

/// Where the next batch's part of a disruption's fan-out begins in the queue, and how much of
/// it to read ahead: the batch being applied tells the queue's first orders, about as many as
/// the last batch told (`skipping`). A guess either way costs only reads: orders it skips that
/// the batch leaves are read on the writer, and orders the batch tells are written, so stale.
/// Reading them (an order and its customer for each alert) was a third of the writer's time
/// telling orders, while the other core had time to spare.
struct FanoutAhead: Sendable {
    var skipping: Int
    var limit: Int

    /// As many as the last batch told, after those: the batch waits for its read ahead, so
    /// reading a whole `fanoutLimit` when sends cut the batches short would hold it up.
    init(told: Int, limit: Int) {
        skipping = told
        self.limit = min(limit, max(told, Self.least))
    }

    static let least = 50
}

/// Reads models by id for a lookahead, and the models those name in turn.
private struct ModelReader {
    let db: Database
    let committed: ModelCache.Tables
    var read = ModelCache.Tables()

    mutating func read(_ names: ModelNames) throws {
        for id in names.customers { _ = try Self.fetch(db, id, .customers, committed.customers, &read.customers) }
        for id in names.orders {
            if let order = try Self.fetch(db, id, .orders, committed.orders, &read.orders) { try read(Projector.modelsNamed(by: order)) }
        }
        for id in names.tickets {
            if let ticket = try Self.fetch(db, id, .tickets, committed.tickets, &read.tickets) { try read(Projector.modelsNamed(by: ticket)) }
        }
    }

    /// The model, when it was read now; nil when it is cached already, absent, or does not read.
    /// Static, so that `read` is the only access to the dictionary it fills: a method on `self`
    /// would hold a second reference to it and copy it on every insert.
    private static func fetch<Model: JSONModel & Sendable>(_ db: Database, _ id: String, _ table: ModelTable<Model>, _ committed: [String: Model?],
                                                           _ read: inout [String: Model?]) throws -> Model? {
        guard committed[id] == nil, read[id] == nil else { return nil }
        let model: Model?
        do {
            model = try table.fetch(db, id: id)
        } catch let error as StoreError where error.code == .corruptRow {
            return nil  // left to the writer, which says why
        }
        read[id] = .some(model)  // nil: known not to exist, which the writer uses too
        return model
    }
}

/// What the daemon's pipeline read ahead for its next batch, and where that batch starts.
final class LookaheadSlot: Sendable {
    private struct State {
        var ahead: Lookahead?
        /// Where the batch after the next begins to be read ahead from: the last batch's
        /// checkpoint, when it was full (a backlog); nil when the pipeline is caught up.
        var from: Int64?
        /// How many orders the last batch told of a fan-out still queued; nil when none is.
        var fanoutTold: Int?
    }

    private let state = Mutex(State())

    /// What was read ahead for this batch, where the next batch's read ahead begins, and how
    /// far into a fan-out's queue.
    func take() -> (ahead: Lookahead?, from: Int64?, fanoutTold: Int?) {
        state.withLock { state in
            defer { state.ahead = nil }
            return (state.ahead, state.from, state.fanoutTold)
        }
    }

    func store(_ ahead: Lookahead?, from: Int64?, fanoutTold: Int?) {
        state.withLock { $0 = State(ahead: ahead, from: from, fanoutTold: fanoutTold) }
    }
}
