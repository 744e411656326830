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

    /// What a batch starts from: the models committed so far, of the tables' generation. As a
    /// batch's contribution, `written` names the models it changed or deleted.
    struct Snapshot: Sendable {
        var tables: Tables
        var generation: Int64
        var written = Written()
    }

    /// The ids of models changed or deleted, by table.
    struct Written: Sendable {
        var customers: Set<String> = []
        var orders: Set<String> = []
        var tickets: Set<String> = []

        mutating func formUnion(_ other: Written) {
            customers.formUnion(other.customers)
            orders.formUnion(other.orders)
            tickets.formUnion(other.tickets)
        }
    }

    private struct State {
        var snapshot = Snapshot(tables: Tables(), generation: 0)
        /// Counts commits up; a read ahead notes it before its snapshot opens.
        var sequence: UInt64 = 0
        /// What the latest commits wrote, newest last, at most `recentCommits`.
        var recent: [(sequence: UInt64, written: Written)] = []
    }

    /// How many commits' written ids are kept for a read ahead to check against: it reads
    /// during one batch and is used by the next, so a few are plenty (ingest's own batches
    /// may commit between).
    static let recentCommits = 32

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The models committed so far (copied only if written while held), or none when the
    /// tables were rebuilt since: `generation` is what the batch's transaction reads.
    func snapshot(generation: Int64) -> Snapshot {
        state.withLock { state in
            if state.snapshot.generation != generation { state.snapshot = Snapshot(tables: Tables(), generation: generation) }
            return state.snapshot
        }
    }

    /// The models committed so far, if of `generation` (none otherwise), leaving the cache as
    /// it is: for a read ahead, whose snapshot may be older than the writer's.
    func tables(generation: Int64) -> Tables {
        state.withLock { $0.snapshot.generation == generation ? $0.snapshot.tables : Tables() }
    }

    /// The number of the latest commit: noted by a read ahead before its read transaction
    /// begins, so that every commit up to it is in what it reads.
    var sequence: UInt64 { state.withLock { $0.sequence } }

    /// The models written by the commits after `sequence`, or nil when they are no longer known
    /// (too many commits since): then nothing read before may be trusted.
    func written(since sequence: UInt64) -> Written? {
        state.withLock { state in
            guard state.sequence == sequence || state.recent.first.map({ $0.sequence <= sequence + 1 }) == true else { return nil }
            var written = Written()
            for commit in state.recent where commit.sequence > sequence { written.formUnion(commit.written) }
            return written
        }
    }

    /// Takes what the transaction of `db` read and wrote once it commits, on the writer, before
    /// the next transaction starts: batches run from more than one task (the pipeline, and
    /// ingest when it applies its own events), and the next must start from this one's models.
    func commit(_ batch: Snapshot, after db: Database) {
        db.afterNextTransaction(onCommit: { [self] _ in commit(batch) })
    }

    /// Takes what a committed batch read and wrote, unless the tables were rebuilt meanwhile.
    func commit(_ batch: Snapshot) {
        state.withLock { state in
            // Counted whatever the generation: a read ahead compares generations itself.
            state.sequence += 1
            state.recent.append((state.sequence, batch.written))
            if state.recent.count > Self.recentCommits { state.recent.removeFirst(state.recent.count - Self.recentCommits) }
            guard state.snapshot.generation == batch.generation else { return }
            Self.merge(batch.tables.customers, into: &state.snapshot.tables.customers, capacity: capacity)
            Self.merge(batch.tables.orders, into: &state.snapshot.tables.orders, capacity: capacity)
            Self.merge(batch.tables.tickets, into: &state.snapshot.tables.tickets, capacity: capacity)
        }
    }

    private static func merge<Model>(_ batch: [String: Model?], into table: inout [String: Model?], capacity: Int) {
        if table.count + batch.count > capacity { table.removeAll(keepingCapacity: true) }
        table.merge(batch) { _, new in new }
    }
}
