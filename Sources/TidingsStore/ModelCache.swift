import Synchronization
import TidingsCore

/// Decoded read models kept across pipeline batches: a real log spreads an order's events wider
/// than one batch, and decoding it again for each cost more than applying the event. Only what
/// a batch read or wrote *and committed* enters (a rolled-back batch leaves nothing), and the
/// pipeline is the only writer of the models, so what is here is what the database holds.
/// "Not found" is kept too: the customer a parked message waits for is looked up on every
/// event about them. Bounded: a table past `capacity` models starts afresh.
final class ModelCache: Sendable {
    struct Tables: Sendable {
        var customers: [String: Customer?] = [:]
        var orders: [String: Order?] = [:]
        var tickets: [String: Ticket?] = [:]
    }

    let capacity: Int
    private let tables = Mutex(Tables())

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    /// The models committed so far (a snapshot: copied only if written while held).
    var snapshot: Tables { tables.withLock { $0 } }

    /// Takes what a committed batch read and wrote.
    func commit(_ batch: Tables) {
        tables.withLock { tables in
            Self.merge(batch.customers, into: &tables.customers, capacity: capacity)
            Self.merge(batch.orders, into: &tables.orders, capacity: capacity)
            Self.merge(batch.tickets, into: &tables.tickets, capacity: capacity)
        }
    }

    /// Forgets everything: after the models were changed behind the pipeline's back.
    func clear() {
        tables.withLock { $0 = Tables() }
    }

    private static func merge<Model>(_ batch: [String: Model?], into table: inout [String: Model?], capacity: Int) {
        if table.count + batch.count > capacity { table.removeAll(keepingCapacity: true) }
        table.merge(batch) { _, new in new }
    }
}
