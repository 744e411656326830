import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// The read models one pipeline batch works on: loaded once, up front for what its events
/// name and on demand for the rest, and written once at the end, in one statement per table.
struct PostgresModels {
    var customers: [String: Customer?] = [:]
    var orders: [String: Order?] = [:]
    var tickets: [String: Ticket?] = [:]
    private var dirty: [Kind: [String: Int64]] = [:]

    enum Kind: String, CaseIterable {
        case customers, orders, tickets
    }

    /// A model the projector asked for that is not loaded: loaded, then the event projected again
    /// (the projector is pure, so that changes nothing).
    struct Miss: Error {
        var kind: Kind
        var id: String
    }

    /// What the projector sees: the loaded models, a miss for any other.
    struct Lookup: ModelLookup {
        let models: PostgresModels

        mutating func customer(_ id: String) throws -> Customer? {
            guard let model = models.customers[id] else { throw Miss(kind: .customers, id: id) }
            return model
        }

        mutating func order(_ id: String) throws -> Order? {
            guard let model = models.orders[id] else { throw Miss(kind: .orders, id: id) }
            return model
        }

        mutating func ticket(_ id: String) throws -> Ticket? {
            guard let model = models.tickets[id] else { throw Miss(kind: .tickets, id: id) }
            return model
        }
    }

    /// Loads what these events name (their subjects, customers and orders), and the customers
    /// of the orders and tickets found, in a few queries.
    mutating func prefetch(_ events: [StoredEvent], on connection: PostgresConnection, logger: Logger) async throws {
        var wanted: [Kind: Set<String>] = [:]
        for stored in events {
            let event = stored.event
            if let subject = event.subject, let kind = Self.kind(ofSubjectOf: event.type) { wanted[kind, default: []].insert(subject) }
            if let customer = event.data["customer_id"]?.stringValue { wanted[.customers, default: []].insert(customer) }
            if let order = event.data["order_id"]?.stringValue { wanted[.orders, default: []].insert(order) }
        }
        try await load(.orders, Array(wanted[.orders] ?? []), on: connection, logger: logger)
        try await load(.tickets, Array(wanted[.tickets] ?? []), on: connection, logger: logger)
        var customers = wanted[.customers] ?? []
        for case let order? in orders.values { customers.insert(order.customerID) }
        for case let ticket? in tickets.values { customers.insert(ticket.customerID) }
        try await load(.customers, Array(customers), on: connection, logger: logger)
    }

    static func kind(ofSubjectOf type: String) -> Kind? {
        if type.hasPrefix("customer.") { return .customers }
        if type.hasPrefix("order.") { return .orders }
        if type.hasPrefix("ticket.") { return .tickets }
        return nil
    }

    /// Loads the models of these ids not loaded yet; an id with no row is known not to exist.
    mutating func load(_ kind: Kind, _ ids: [String], on connection: PostgresConnection, logger: Logger) async throws {
        let missing = ids.filter { id in
            switch kind {
            case .customers: customers[id] == nil
            case .orders: orders[id] == nil
            case .tickets: tickets[id] == nil
            }
        }
        guard !missing.isEmpty else { return }
        var found: Set<String> = []
        let rows = try await connection.run(PostgresQuery(unsafeSQL: "SELECT id, doc FROM \(kind.rawValue) WHERE id = ANY($1)",
                                                            binds: PostgresBindings.of(missing)), logger: logger)
        for try await (id, doc) in rows.decode((String, Data).self) {
            found.insert(id)
            do {
                switch kind {
                case .customers: customers[id] = .some(try Customer(document: doc))
                case .orders: orders[id] = .some(try Order(document: doc))
                case .tickets: tickets[id] = .some(try Ticket(document: doc))
                }
            } catch {
                throw PostgresBackendError(.readFailed, "the \(kind.rawValue) row \(id) does not read (\(error))")
            }
        }
        for id in missing where !found.contains(id) {
            switch kind {
            case .customers: customers[id] = .some(nil)
            case .orders: orders[id] = .some(nil)
            case .tickets: tickets[id] = .some(nil)
            }
        }
    }

    /// Takes what a projection changed, as of the event at `position`.
    mutating func put(_ projection: Projection, position: Int64) {
        if let customer = projection.customer {
            customers[customer.id] = .some(customer)
            dirty[.customers, default: [:]][customer.id] = position
        }
        if let order = projection.order {
            orders[order.id] = .some(order)
            dirty[.orders, default: [:]][order.id] = position
        }
        if let ticket = projection.ticket {
            tickets[ticket.id] = .some(ticket)
            dirty[.tickets, default: [:]][ticket.id] = position
        }
    }

    /// Models a forget purged from the tables: known to be gone for the rest of the batch.
    mutating func forget(customers gone: [String], orders goneOrders: [String], tickets goneTickets: [String]) {
        for id in gone { customers[id] = .some(nil); dirty[.customers]?[id] = nil }
        for id in goneOrders { orders[id] = .some(nil); dirty[.orders]?[id] = nil }
        for id in goneTickets { tickets[id] = .some(nil); dirty[.tickets]?[id] = nil }
    }

    /// Writes what changed, one statement per table.
    mutating func flush(on connection: PostgresConnection, logger: Logger) async throws {
        defer { dirty.removeAll() }
        let customers = (dirty[.customers] ?? [:]).compactMap { id, position in (self.customers[id] ?? nil).map { (id, $0, position) } }
        let orders = (dirty[.orders] ?? [:]).compactMap { id, position in (self.orders[id] ?? nil).map { (id, $0, position) } }
        let tickets = (dirty[.tickets] ?? [:]).compactMap { id, position in (self.tickets[id] ?? nil).map { (id, $0, position) } }
        try await Self.write(customers: customers, orders: orders, tickets: tickets, on: connection, logger: logger)
    }

    /// What a replay of the log made (an import, a rebuild): its models, and the timers given.
    static func write(replayed replay: Replay, timers: [(key: Replay.TimerSlot, value: Replay.Timer)], on connection: PostgresConnection,
                      logger: Logger) async throws {
        try await write(customers: replay.customers.map { ($0.key, $0.value.model, $0.value.position) },
                        orders: replay.orders.map { ($0.key, $0.value.model, $0.value.position) },
                        tickets: replay.tickets.map { ($0.key, $0.value.model, $0.value.position) }, on: connection, logger: logger)
        guard !timers.isEmpty else { return }
        try await connection.run("""
            INSERT INTO timers (type, subject, due_at, scheduled_by)
            SELECT * FROM unnest(\(timers.map(\.key.type))::text[], \(timers.map(\.key.subject))::text[],
                                 \(timers.map(\.value.dueAt))::float8[], \(timers.map(\.value.scheduledBy))::int8[])
            """, logger: logger)
    }

    /// Upserts models with the position of the event that last changed each: the pipeline's
    /// batches and an import's rebuild write through this one definition of the tables.
    static func write(customers: [(String, Customer, Int64)], orders: [(String, Order, Int64)], tickets: [(String, Ticket, Int64)],
                      on connection: PostgresConnection, logger: Logger) async throws {
        if !customers.isEmpty {
            let rows = customers
            try await connection.run("""
                INSERT INTO customers (id, doc, position, suppressed)
                SELECT * FROM unnest(\(rows.map(\.0))::text[], \(try rows.map { ByteBuffer(bytes: try $0.1.document()) })::bytea[],
                                     \(rows.map(\.2))::int8[], \(rows.map { $0.1.suppressed.count })::int4[])
                ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, suppressed = excluded.suppressed
                """, logger: logger)
        }
        if !orders.isEmpty {
            let rows = orders
            try await connection.run("""
                INSERT INTO orders (id, doc, position, customer_id, status, region, carrier)
                SELECT i, d, p, c, s, NULLIF(r, ''), NULLIF(ca, '')
                FROM unnest(\(rows.map(\.0))::text[], \(try rows.map { ByteBuffer(bytes: try $0.1.document()) })::bytea[],
                            \(rows.map(\.2))::int8[], \(rows.map(\.1.customerID))::text[], \(rows.map(\.1.status.rawValue))::text[],
                            \(rows.map { $0.1.shipping?.region ?? "" })::text[], \(rows.map { $0.1.carrier ?? "" })::text[])
                    AS o(i, d, p, c, s, r, ca)
                ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, customer_id = excluded.customer_id,
                    status = excluded.status, region = excluded.region, carrier = excluded.carrier
                """, logger: logger)
        }
        if !tickets.isEmpty {
            let rows = tickets
            try await connection.run("""
                INSERT INTO tickets (id, doc, position, customer_id, kind, status)
                SELECT * FROM unnest(\(rows.map(\.0))::text[], \(try rows.map { ByteBuffer(bytes: try $0.1.document()) })::bytea[],
                                     \(rows.map(\.2))::int8[], \(rows.map(\.1.customerID))::text[], \(rows.map(\.1.kind))::text[],
                                     \(rows.map(\.1.status.rawValue))::text[])
                ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, customer_id = excluded.customer_id,
                    kind = excluded.kind, status = excluded.status
                """, logger: logger)
        }
    }
}
