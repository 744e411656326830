import GRDB
import Synchronization
import TidingsCore

/// Decoded read models kept across pipeline batches: a real log spreads an order's events wider
/// than one batch, and decoding it again for each cost more than applying the event. Only what
/// a batch read or wrote *and committed* enters (a rolled-back batch leaves nothing), and the
/// pipeline is the only writer of the models, so what is here is what the database holds.
/// "Not found" is kept too: the customer a parked message waits for is looked up on every
/// event about them. Bounded: a table past `capacity` models starts afresh. 10,000 a table:
/// bench scenario 3 (1,000,000 events) caught up as fast as with 20,000 (106-112 s against
/// 107-110 s) and peaked at 131-135 MB instead of 158-174 MB.
///
/// `tidings rebuild` replaces the tables from another process: it counts up the tables'
/// generation (`Store.readModelsGeneration`), and a cache from an older one is dropped.
final class ModelCache: Sendable {
    struct Tables: Sendable {
        var customers: [String: Customer?] = [:]
        var orders: [String: Order?] = [:]
        var tickets: [String: Ticket?] = [:]
    }

    /// What a batch starts from: the models committed so far, of the tables' generation.
    struct Snapshot: Sendable {
        var tables: Tables
        var generation: Int64
    }

    let capacity: Int
    private let state = Mutex(Snapshot(tables: Tables(), generation: 0))

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The models committed so far (copied only if written while held), or none when the
    /// tables were rebuilt since: `generation` is what the batch's transaction reads.
    func snapshot(generation: Int64) -> Snapshot {
        state.withLock { state in
            if state.generation != generation { state = Snapshot(tables: Tables(), generation: generation) }
            return state
        }
    }

    /// Takes what the transaction of `db` read and wrote once it commits, on the writer, before
    /// the next transaction starts: batches run from more than one task (the pipeline, and
    /// ingest when it applies its own events), and the next must start from this one's models.
    func commit(_ batch: Snapshot, after db: Database) {
        db.afterNextTransaction(onCommit: { [self] _ in commit(batch) })
    }

    /// Takes what a committed batch read and wrote, unless the tables were rebuilt meanwhile.
    private func commit(_ batch: Snapshot) {
        state.withLock { state in
            guard state.generation == batch.generation else { return }
            Self.merge(batch.tables.customers, into: &state.tables.customers, capacity: capacity)
            Self.merge(batch.tables.orders, into: &state.tables.orders, capacity: capacity)
            Self.merge(batch.tables.tickets, into: &state.tables.tickets, capacity: capacity)
        }
    }

    private static func merge<Model>(_ batch: [String: Model?], into table: inout [String: Model?], capacity: Int) {
        if table.count + batch.count > capacity { table.removeAll(keepingCapacity: true) }
        table.merge(batch) { _, new in new }
    }
}
