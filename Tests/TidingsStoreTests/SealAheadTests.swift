import Foundation
import Testing
import TidingsCore
@testable import TidingsStore

/// `tidings append` seals personal fields before the writer takes a chunk, with keys read
/// once per customer; the writer keeps such a body only when its key is the stored one.
@Suite("Sealing ahead of the writer")
struct SealAheadTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-seal-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func store() throws -> Store { try Store(path: directory.appendingPathComponent("t.sqlite").path) }

    func registered(_ customer: String, name: String, id: String) -> CloudEvent {
        CloudEvent(id: id, source: "urn:test", type: "customer.registered", subject: customer, time: now,
                   data: ["name": .string(name), "email": .string("\(customer)@example.com")])
    }

    func names(_ store: Store) throws -> [String?] {
        try store.events(after: 0, limit: 100).map { $0.event.data["name"]?.stringValue }
    }

    @Test func bodiesSealedAheadAreStoredAndOpenWithTheStoredKey() throws {
        let store = try store()
        var ring: [String: Data] = [:]
        let sealed = try store.sealAhead([registered("c-1", name: "Ann", id: "e1"), registered("c-2", name: "Bo", id: "e2")].map { try EncodedEvent($0) },
                                         ring: &ring)
        #expect(sealed.allSatisfy { $0.sealedFor != nil && !String(decoding: $0.body ?? Data(), as: UTF8.self).contains("Ann") })
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append(sealed, now: now)
        try staged.finish()
        #expect(try names(store) == ["Ann", "Bo"])
        // The ring's new keys became the stored ones, so the next chunk's bodies are kept.
        let stored = try store.read("keys") { db in try Data.fetchOne(db, sql: "SELECT key FROM customer_keys WHERE customer_id = 'c-1'") }
        #expect(stored == ring["c-1"])
    }

    /// An event stored already, sent again about somebody else: it is a duplicate, found by
    /// the insert after it was sealed, and the key made for that somebody is taken back (a key
    /// names a customer `tidings forget` takes for real). A new customer's event beside it keeps
    /// its key, and so does a customer whose stored event came first in the same chunk.
    @Test func aDuplicateLeavesNoKeyForACustomerNobodyNames() throws {
        let store = try store()
        _ = try store.append([registered("c-1", name: "Ann", id: "e1")], now: now)
        let again = CloudEvent(id: "e1", source: "urn:test", type: "customer.registered", subject: "c-ghost", time: now,
                               data: ["name": "Ghost", "email": "ghost@example.com"])
        let result = try store.append([registered("c-2", name: "Bo", id: "e2"), again, registered("c-ghost", name: "Real", id: "e3")], now: now)
        #expect(result.alreadyStored == 1)
        #expect(try keyedCustomers(store) == ["c-1", "c-2", "c-ghost"])
        #expect(try names(store) == ["Ann", "Bo", "Real"])
        let ghostOnly = try store.append([again], now: now)
        #expect(ghostOnly.alreadyStored == 1)
        #expect(try keyedCustomers(store) == ["c-1", "c-2", "c-ghost"])
        let store2Dir = directory.appendingPathComponent("b")
        try FileManager.default.createDirectory(at: store2Dir, withIntermediateDirectories: true)
        let fresh = try Store(path: store2Dir.appendingPathComponent("t.sqlite").path)
        _ = try fresh.append([registered("c-1", name: "Ann", id: "e1")], now: now)
        _ = try fresh.append([again], now: now)
        #expect(try keyedCustomers(fresh) == ["c-1"])
    }

    /// Another process gave the customer a key between sealing and writing: the body sealed
    /// with the ring's key would never open, so the writer seals it again with the stored one.
    @Test func aKeyStoredMeanwhileWinsAndTheBodyIsSealedAgain() throws {
        let store = try store()
        var ring: [String: Data] = [:]
        let sealed = try store.sealAhead([registered("c-1", name: "Ann", id: "e1")].map { try EncodedEvent($0) }, ring: &ring)
        _ = try store.append([registered("c-1", name: "Ann B", id: "e0")], now: now)  // HTTP ingest, meanwhile
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append(sealed, now: now)
        try staged.finish()
        #expect(try names(store) == ["Ann B", "Ann"])
    }

    /// A forget between sealing ahead and writing erases the key the ring holds. An event of
    /// theirs sent again (stored already, so not refused) must not put that key back: the
    /// whole history sealed with it would be readable again.
    @Test func aKeyErasedByAForgetIsNeverStoredAgain() throws {
        let store = try store()
        _ = try store.append([registered("c-1", name: "Ann", id: "e1")], now: now)
        var ring: [String: Data] = [:]
        let sealed = try store.sealAhead([registered("c-1", name: "Ann", id: "e1")].map { try EncodedEvent($0) }, ring: &ring)
        _ = try store.forget(customerID: "c-1", eventID: "f1", now: now)
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append(sealed, now: now)
        try staged.finish()
        #expect(staged.alreadyStored == 1)
        let keys = try store.read("keys") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customer_keys WHERE customer_id = 'c-1'") }
        #expect(keys == 0)
        #expect(try names(store).first == .some(nil))
    }

    func bodies(_ store: Store) throws -> [Data] {
        try store.read("bodies") { db in try Data.fetchAll(db, sql: "SELECT body FROM events ORDER BY position") }
    }

    /// The customers who have a key, in order.
    func keyedCustomers(_ store: Store) throws -> [String] {
        try store.read("keys") { db in try String.fetchAll(db, sql: "SELECT customer_id FROM customer_keys ORDER BY customer_id") }
    }

    func storedKey(_ store: Store, _ customer: String) throws -> Data? {
        try store.read("keys") { db in try Data.fetchOne(db, sql: "SELECT key FROM customer_keys WHERE customer_id = ?", arguments: [customer]) }
    }

    /// HTTP ingest prepares each request's events on its own task: encoded, and sealed with the
    /// ring's key. The writer stores those very bytes, and the proposed key with them.
    @Test func ingestSealsOnTheRequestsTaskAndTheWriterKeepsTheBytes() async throws {
        let store = try store()
        let note = CloudEvent(id: "n1", source: "urn:test", type: "shop.note", subject: nil, time: now, data: ["text": "hello"])
        let prepared = store.prepare([registered("c-1", name: "Ann", id: "e1"), note])
        #expect(prepared[0].sealedFor == "c-1" && !String(decoding: prepared[0].body ?? Data(), as: UTF8.self).contains("Ann"))
        #expect(prepared[1].sealedFor == nil && prepared[1].body != nil)
        _ = try await store.append(batches: [prepared], now: now)
        #expect(try bodies(store) == prepared.compactMap(\.body))
        #expect(try names(store) == ["Ann", nil])
        #expect(try storedKey(store, "c-1") == store.sealingKeys.key(for: "c-1"))
    }

    /// The ring proposed a key for a customer who had one already (stored before a restart, or
    /// by another process): the writer seals with the stored key, and the ring learns it, so the
    /// customer's next events are kept as prepared.
    @Test func aKeyTheRingHadWrongIsSealedAgainAndLearned() async throws {
        let store = try store()
        _ = try store.append([registered("c-1", name: "Ann", id: "e0")], now: now)
        let stored = try #require(try storedKey(store, "c-1"))
        let first = store.prepare([registered("c-1", name: "Ann B", id: "e1")])
        #expect(first[0].sealedWith != stored)
        _ = try await store.append(batches: [first], now: now)
        #expect(try names(store) == ["Ann", "Ann B"])
        #expect(store.sealingKeys.key(for: "c-1") == stored)
        let second = store.prepare([registered("c-1", name: "Ann C", id: "e2")])
        _ = try await store.append(batches: [second], now: now)
        #expect(try bodies(store).last == second[0].body)
        #expect(try names(store) == ["Ann", "Ann B", "Ann C"])
    }

    /// A forget erases the customer's key from the database; the ring must not keep it in
    /// memory: the next group commit sees the generation move and empties it.
    @Test func aForgetEmptiesTheRingAtTheNextGroupCommit() async throws {
        let store = try store()
        _ = try await store.append(batches: [store.prepare([registered("c-1", name: "Ann", id: "e1"), registered("c-2", name: "Bo", id: "e2")])], now: now)
        #expect(store.sealingKeys.count == 2)
        _ = try store.forget(customerID: "c-1", eventID: "f1", now: now)
        let refused = try await store.append(batches: [store.prepare([registered("c-1", name: "Ann", id: "e3")])], now: now)
        #expect(refused.first?.refusal != nil)
        #expect(store.sealingKeys.count == 0)
        #expect(try storedKey(store, "c-1") == nil)
    }

    /// Without any request after the forget, the pipeline's next batch lets go of the key.
    @Test func aForgetEmptiesTheRingAtThePipelinesNextBatch() async throws {
        let store = try store()
        _ = try await store.append(batches: [store.prepare([registered("c-1", name: "Ann", id: "e1")])], now: now)
        #expect(store.sealingKeys.count == 1)
        _ = try store.forget(customerID: "c-1", eventID: "f1", now: now)
        _ = try store.processBatch(limit: 10, engine: HandoffStoreTests().engine, now: now)
        #expect(store.sealingKeys.count == 0)
    }
}
