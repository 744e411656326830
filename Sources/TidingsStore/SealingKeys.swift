import Foundation
import Synchronization
import TidingsCore

/// Customers' keys for sealing ingest's events ahead of the writer (`Store.prepare`), on each
/// request's own task: sealing and encoding were almost half of the writer's work in an
/// ingest of batches. A key here is the one the writer last found stored for the customer, or
/// one proposed for a customer new to this process (the writer stores it with the event).
///
/// The writer checks every key against the stored one, and seals again when they differ (a
/// key another process made, or one from before a restart); it then tells the ring the stored
/// key, so the customer's next events are sealed right. An erased key must not stay in
/// memory: the ring is emptied when the read models' generation moves (`tidings forget`),
/// which every group commit and pipeline batch looks at. Until then, requests may still seal
/// with it; the writer refuses their events (the customer is forgotten) and never stores it.
final class SealingKeys: Sendable {
    private struct State {
        var keys: [String: Data] = [:]
        var generation: Int64?
    }

    /// Keys kept at most, about 3 MB: past it the ring starts again empty.
    static let limit = 20_000
    private let state = Mutex(State())

    /// The key to seal `owner`'s events with: the one known, or a new proposal that every
    /// request until the writer's answer shares.
    func key(for owner: String) -> Data {
        if let key = state.withLock({ $0.keys[owner] }) { return key }
        let proposed = Sealing.newKey()
        return state.withLock { state in
            if let key = state.keys[owner] { return key }
            if state.keys.count >= Self.limit { state.keys.removeAll(keepingCapacity: true) }
            state.keys[owner] = proposed
            return proposed
        }
    }

    /// The key the writer found stored for `owner`, when it was not the one proposed.
    func learn(_ owner: String, _ key: Data) {
        state.withLock { state in
            if state.keys[owner] == nil, state.keys.count >= Self.limit { state.keys.removeAll(keepingCapacity: true) }
            state.keys[owner] = key
        }
    }

    /// Empties the ring when the read models' generation is no longer the one it saw: a
    /// customer was forgotten (or the models rebuilt) since. Before the first look, the ring
    /// holds only new keys it proposed, none of which a forget can have erased.
    func observe(generation: Int64) {
        state.withLock { state in
            if let seen = state.generation, seen != generation { state.keys.removeAll() }
            state.generation = generation
        }
    }

    /// How many keys the ring holds (tests).
    var count: Int { state.withLock { $0.keys.count } }
}
