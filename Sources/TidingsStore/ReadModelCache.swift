import Foundation
import GRDB
import TidingsCore

/// The read models touched by one pipeline batch, loaded once and written once at the end,
/// so a batch of a thousand events about a hundred orders costs a hundred writes, not a thousand.
/// Models come from the shared `ModelCache` when an earlier batch had them.
struct ReadModelCache: ModelLookup {
    var customers: EntityTable<Customer>
    var orders: EntityTable<Order>
    var tickets: EntityTable<Ticket>

    /// `ahead`: models read ahead of this batch (`Lookahead`), each used unless `stale`
    /// names it (written since they were read).
    init(db: Database, committed: ModelCache.Tables, ahead: ModelCache.Tables = ModelCache.Tables(), stale: ModelCache.Written = ModelCache.Written()) {
        customers = EntityTable(db: db, table: .customers, committed: committed.customers, ahead: ahead.customers, stale: stale.customers)
        orders = EntityTable(db: db, table: .orders, committed: committed.orders, ahead: ahead.orders, stale: stale.orders)
        tickets = EntityTable(db: db, table: .tickets, committed: committed.tickets, ahead: ahead.tickets, stale: stale.tickets)
    }

    /// Room for the models of `events` events in each table (up to 1,024): grown from empty,
    /// a batch's tables rehashed every key at each doubling (about 1% of a catch-up's samples).
    mutating func reserve(_ events: Int) {
        let events = min(events, 1024)
        customers.reserve(events)
        orders.reserve(events)
        tickets.reserve(events)
    }

    /// What this batch read and wrote, for the shared cache once it commits.
    var loaded: ModelCache.Tables {
        ModelCache.Tables(customers: customers.loaded, orders: orders.loaded, tickets: tickets.loaded)
    }

    /// What this batch changed or deleted.
    var written: ModelCache.Written {
        ModelCache.Written(customers: customers.written, orders: orders.written, tickets: tickets.written)
    }

    mutating func customer(_ id: String) throws -> Customer? { try customers.get(id) }
    mutating func order(_ id: String) throws -> Order? { try orders.get(id) }
    mutating func ticket(_ id: String) throws -> Ticket? { try tickets.get(id) }

    /// Takes what a projection changed, as of the event at `position`.
    mutating func put(_ projection: Projection, position: Int64) {
        if let customer = projection.customer { customers.put(customer.id, customer, position: position) }
        if let order = projection.order { orders.put(order.id, order, position: position) }
        if let ticket = projection.ticket { tickets.put(ticket.id, ticket, position: position) }
    }

    /// Writes what changed; safe to call more than once in a batch.
    mutating func flush() throws {
        try customers.flush()
        try orders.flush()
        try tickets.flush()
    }
}

/// One read-model table in a batch. Models are looked up in this batch's own, then in what
/// earlier batches left in the shared cache, then in what was read ahead, then in the database.
struct EntityTable<Model: JSONModel & Sendable> {
    let db: Database
    let table: ModelTable<Model>
    /// What earlier batches committed (a snapshot, not copied unless written).
    let committed: [String: Model?]
    /// Read ahead of this batch, from a snapshot that may predate the latest commits: those
    /// in `stale` were written since.
    let ahead: [String: Model?]
    let stale: Set<String>
    /// What this batch read or wrote: handed to the shared cache once the batch commits.
    private(set) var loaded: [String: Model?] = [:]
    /// What this batch changed or deleted: a read ahead made before its commit must not use them.
    private(set) var written: Set<String> = []
    private var dirty: [String: Int64] = [:]
    /// The models as this batch first read them, rows of the table: one whose columns keep
    /// their values is written by its document alone (`ModelTable.writeDocument`, which checks
    /// the row's columns itself).
    private var asRead: [String: Model] = [:]

    init(db: Database, table: ModelTable<Model>, committed: [String: Model?], ahead: [String: Model?] = [:], stale: Set<String> = []) {
        self.db = db
        self.table = table
        self.committed = committed
        self.ahead = ahead
        self.stale = stale
    }

    /// The batch's own tables only: `written` outlives it (the shared cache keeps the last
    /// commits' sets), so it grows with what is written.
    mutating func reserve(_ count: Int) {
        loaded.reserveCapacity(count)
        asRead.reserveCapacity(count)
        dirty.reserveCapacity(count)
    }

    mutating func get(_ id: String) throws -> Model? {
        if let cached = loaded[id] { return cached }
        let model: Model?
        if let cached = committed[id] ?? (stale.contains(id) ? nil : ahead[id]) {
            model = cached
        } else {
            model = try table.fetch(db, id: id)
        }
        loaded[id] = .some(model)
        if let model { asRead[id] = model }
        return model
    }

    mutating func put(_ id: String, _ model: Model, position: Int64) {
        loaded[id] = .some(model)
        dirty[id] = position
        written.insert(id)
    }

    /// Models deleted from the table: known not to exist, for this batch and the shared cache.
    mutating func evict(_ ids: [String]) {
        for id in ids {
            loaded[id] = .some(nil)
            dirty[id] = nil
            asRead[id] = nil
            written.insert(id)
        }
    }

    mutating func flush() throws {
        guard !dirty.isEmpty else { return }
        defer { dirty.removeAll(keepingCapacity: true) }
        let upsert = try db.cachedStatement(sql: table.upsert())
        let documentUpdate = try db.cachedStatement(sql: table.documentUpdateSQL)
        for (id, position) in dirty {
            guard let model = loaded[id] ?? nil else { continue }
            let columns = table.values(model)
            // Only tried where the columns look unchanged: elsewhere it would find no row.
            let unchanged = asRead[id].map { table.values($0) == columns } ?? false
            let rewritten = try unchanged && table.writeDocument(db, documentUpdate, id, model, columns: columns, position: position)
            if !rewritten {
                try table.write(upsert, id, model, columns: columns, position: position)
            }
            asRead[id] = model
        }
    }
}
