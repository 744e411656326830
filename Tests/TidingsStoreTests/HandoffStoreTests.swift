import Foundation
import Testing
import TidingsCore
@testable import TidingsStore

/// A pipeline batch claims, in its own transaction, the acknowledgements it writes for the
/// dispatcher that offered room; the rest stays for the dispatcher's own claims.
@Suite("Store: claims handed over by the pipeline")
struct HandoffStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-handoff-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func event(_ type: String, _ subject: String, _ data: JSONValue) -> CloudEvent {
        CloudEvent(id: "\(type)/\(subject)", source: "urn:test", type: type, subject: subject, time: now, data: data)
    }

    let engine = WorkflowEngine(workflows: WorkflowSet(workflows: [
        Workflow(id: "confirm", on: "order.placed", category: .transactional, channels: [.fixed(.email)], template: "confirm"),
        Workflow(id: "ack", on: "ticket.opened", category: .acknowledgement, channels: [.fixed(.email)], template: "ack"),
    ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))

    /// A customer, two orders and `tickets` complaints, in one batch.
    func store(tickets: Int) throws -> Store {
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        var events = [event("customer.registered", "c-1", ["email": "ann@example.com"])]
        for n in 0..<2 {
            events.append(event("order.placed", "o-\(n)", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]))
        }
        for n in 0..<tickets { events.append(event("ticket.opened", "t-\(n)", ["customer_id": "c-1", "kind": "complaint", "subject": "late"])) }
        _ = try store.append(events, now: now)
        return store
    }

    @Test func aBatchClaimsItsAcknowledgementsWithinTheRoomAndLeavesTheRest() async throws {
        let store = try store(tickets: 5)
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 3, .sms: 4])
        let now = self.now
        let batch = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 0, yielding: .never, handoff: handoff)

        #expect(batch.readyByChannel == [.email: 7])
        #expect(batch.handedOff == [.email: 3])
        #expect(batch.handoffRoom == [.email: 3])
        // Two acknowledgements and both confirmations are left: the dispatcher must claim them.
        #expect(batch.dispatcherMustClaim)
        let handed = handoff.take().flatMap(\.messages)
        #expect(handed.map(\.workflow) == ["ack", "ack", "ack"])
        #expect(handed.allSatisfy { $0.progress.leaseUntil == now.addingTimeInterval(60) && $0.totalAttempts == 1 })
        // The room on the channel it made nothing ready on is offered again, untouched.
        #expect(handoff.offered == [.sms: 4])
        #expect(!handoff.hasOutstanding)

        let messages = try store.messages()
        #expect(messages.filter { $0.state == .sending }.map(\.id).sorted() == handed.map(\.id).sorted())
        #expect(messages.filter { $0.state == .pending }.map(\.workflow).sorted() == ["ack", "ack", "confirm", "confirm"])
        // The dispatcher's own claim takes the rest, the acknowledgements first, and never the
        // claims handed over (their lease runs).
        let rest = try store.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "dispatcher-1")
        #expect(rest.map(\.workflow) == ["ack", "ack", "confirm", "confirm"])
    }

    @Test func aBatchThatClaimedEverythingNewNeedsNoRing() async throws {
        let store = try store(tickets: 2)
        let now = self.now
        // The customer and the orders first, sent as if claimed: only the tickets are new.
        _ = try await store.processBatch(limit: 3, engine: engine, now: { now }, fanoutLimit: 0)
        _ = try store.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "dispatcher-1")
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 16])
        let batch = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 0, yielding: .never, handoff: handoff)
        #expect(batch.handedOff == [.email: 2])
        #expect(!batch.dispatcherMustClaim)
        #expect(handoff.take().first?.filled(.email) == false)
        #expect(handoff.offered == [.email: 14])
    }

    /// The batch's claim takes any acknowledgement due, an older one too: the dispatcher is still
    /// rung for the new message that does not go out first.
    @Test func aNewMessageThatDoesNotGoFirstRingsTheDispatcherWhateverWasClaimed() async throws {
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let now = self.now
        // An earlier complaint: its acknowledgement waits, due and unclaimed.
        _ = try store.append([event("customer.registered", "c-1", ["email": "ann@example.com"]),
                              event("ticket.opened", "t-0", ["customer_id": "c-1", "kind": "complaint", "subject": "late"])], now: now)
        _ = try await store.processBatch(limit: 10, engine: engine, now: { now }, fanoutLimit: 0)
        _ = try store.append([event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint", "subject": "late"]),
                              event("order.placed", "o-1", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                                            "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]])], now: now)
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 16])
        let batch = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 0, yielding: .never, handoff: handoff)
        // Two claimed (both acknowledgements) for two new: the confirmation is not among them.
        #expect(batch.readyByChannel == [.email: 2])
        #expect(batch.handedOff == [.email: 2])
        #expect(batch.dispatcherMustClaim)
        #expect(try store.messages().filter { $0.state == .pending }.map(\.workflow) == ["confirm"])
    }

    @Test func withoutRoomNothingIsClaimed() async throws {
        let store = try store(tickets: 2)
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        let now = self.now
        let batch = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 0, yielding: .never, handoff: handoff)
        #expect(batch.handedOff.isEmpty)
        #expect(batch.dispatcherMustClaim)
        #expect(try store.messages().allSatisfy { $0.state == .pending })
    }

    /// On a store that waits for the disk, the daemon's batch, committed with or without waiting
    /// (its own task; without, the setting switched for its transaction): an event that fails
    /// there is still set aside and the others applied, the claims are handed over on the
    /// commit, and the writer waits for the disk again after.
    @Test(arguments: [true, false])
    func aBatchOnADurableStoreSetsAsideHandsOverAndPutsTheSettingBack(syncing: Bool) async throws {
        let store = try Store(path: directory.appendingPathComponent("full-\(syncing).sqlite").path, durability: .full)
        var events = [event("customer.registered", "c-1", ["email": "ann@example.com"])]
        for n in 0..<3 { events.append(event("ticket.opened", "t-\(n)", ["customer_id": "c-1", "kind": "complaint", "subject": "late"])) }
        _ = try store.append(events, now: now)
        try await store.pool.write { db in try db.execute(sql: "UPDATE events SET body = CAST('null' AS BLOB) WHERE position = 3") }
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 5])
        let now = self.now
        let batch = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 0, yielding: .never, handoff: handoff,
                                                 ahead: nil, syncing: syncing)
        #expect(batch.checkpoint == 4)
        #expect(batch.quarantined.map(\.key.position) == [3])
        #expect(batch.handedOff == [.email: 2])
        #expect(handoff.take().flatMap(\.messages).compactMap(\.subjectID).sorted() == ["t-0", "t-2"])
        #expect(try store.synchronousMode() == 2)
        #expect(try store.messages().filter { $0.state == .sending }.count == 2)
    }

    /// A caller cancelled while a batch runs (a daemon stopping on an error elsewhere): the batch
    /// stops at its next look at `yielding`, commits what it applied, and says it stopped early.
    @Test(arguments: [(Store.Durability.full, true), (.full, false), (.normal, false)])
    func aCancelledBatchStopsEarlyAndCommitsWhatItApplied(durability: Store.Durability, syncing: Bool) async throws {
        let store = try Store(path: directory.appendingPathComponent("cancelled-\(durability)-\(syncing).sqlite").path, durability: durability)
        var events = [event("customer.registered", "c-1", ["email": "ann@example.com"])]
        for n in 0..<200 { events.append(event("ticket.opened", "t-\(n)", ["customer_id": "c-1", "kind": "complaint", "subject": "late"])) }
        _ = try store.append(events, now: now)
        let (engine, now) = (self.engine, self.now)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await store.processBatch(limit: 1_000, engine: engine, now: { now }, fanoutLimit: 0,
                                                yielding: Yielding(stride: 10, waiting: { false }), handoff: nil, ahead: nil, syncing: syncing)
        }
        let batch = try await task.value
        #expect(batch.yielded)
        #expect(batch.processed == 10)
        #expect(try await store.checkpoint() == 10)
        #expect(try store.synchronousMode() == (durability == .full ? 2 : 1))
    }

    /// The daemon's batches skip the fsync only while a fan-out is queued (BENCHMARKS.md: beside
    /// ingest, batches without it slowed single-event requests).
    @Test func onlyAFanOutsBatchesSkipTheFsync() {
        #expect(Store.batchSyncs(fanoutQueued: false))
        #expect(!Store.batchSyncs(fanoutQueued: true))
    }
}
