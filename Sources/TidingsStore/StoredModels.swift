import TidingsCore

/// The read models as the database holds them, for projections that store nothing
/// (`tidings preview`): each lookup is a read of its own.
public struct StoredModels: ModelLookup {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public mutating func customer(_ id: String) throws -> Customer? { try store.customer(id: id) }
    public mutating func order(_ id: String) throws -> Order? { try store.order(id: id) }
    public mutating func ticket(_ id: String) throws -> Ticket? { try store.ticket(id: id) }
}
