import Foundation
import GRDB
import Synchronization
import Testing
import TidingsCore
@testable import TidingsStore

/// Ingest applies its own events in its commit when the pipeline is caught up; otherwise, or
/// when an event cannot be applied there, the events are stored all the same and the pipeline
/// does the work, in log order.
@Suite("Store: events applied by the commit that appends them")
struct InlineProjectionTests {
    /// The same events and workflows as the handoff's tests.
    let fixture = HandoffStoreTests()
    var now: Date { fixture.now }
    var engine: WorkflowEngine { fixture.engine }
    func event(_ type: String, _ subject: String, _ data: JSONValue) -> CloudEvent { fixture.event(type, subject, data) }

    var complaint: CloudEvent { event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint", "subject": "late"]) }
    var order: CloudEvent {
        event("order.placed", "o-1", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                      "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]])
    }

    /// A store whose pipeline has applied its one event, a customer.
    func store() throws -> Store {
        let store = try Store(path: fixture.directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        _ = try store.append([event("customer.registered", "c-1", ["email": "ann@example.com"])], now: now)
        _ = try store.processBatch(limit: 10, engine: engine, now: now)
        return store
    }

    func inline(_ handoff: ClaimHandoff? = nil, maxEvents: Int = 200) -> InlineProjection {
        let now = self.now
        return InlineProjection(engine: engine, now: { now }, handoff: handoff, maxEvents: maxEvents)
    }

    @Test func aCaughtUpPipelineHasTheGroupAppliedInItsOwnCommit() async throws {
        let store = try store()
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 16])
        let (results, batch) = try await store.append(batches: [[complaint], [order]], now: now, projecting: inline(handoff))
        #expect(results.map(\.appended) == [1, 1])
        let applied = try #require(batch)
        #expect(applied.processed == 2)
        #expect(applied.checkpoint == 3)
        #expect(try await store.checkpoint() == 3)
        // The acknowledgement is claimed for the dispatcher by the time the request is answered.
        #expect(applied.handedOff == [.email: 1])
        #expect(handoff.take().flatMap(\.messages).map(\.workflow) == ["ack"])
        let messages = try store.messages()
        #expect(messages.map(\.workflow) == ["ack", "confirm"])
        #expect(messages.map(\.state) == [.sending, .pending])
    }

    @Test func aPipelineBehindIsLeftToApplyTheLogInOrder() async throws {
        let store = try store()
        _ = try store.append([order], now: now)
        let (results, batch) = try await store.append(batches: [[complaint]], now: now, projecting: inline())
        #expect(results.map(\.appended) == [1])
        #expect(batch == nil)
        #expect(try await store.checkpoint() == 1)
        #expect(try store.messages().isEmpty)
        #expect(try store.processBatch(limit: 10, engine: engine, now: now).processed == 2)
        #expect(try store.messages().map(\.workflow) == ["confirm", "ack"])
    }

    @Test func aGroupLargerThanTheLimitIsLeftToThePipeline() async throws {
        let store = try store()
        let (_, batch) = try await store.append(batches: [[complaint, order]], now: now, projecting: inline(maxEvents: 1))
        #expect(batch == nil)
        #expect(try await store.checkpoint() == 1)
    }

    /// While a `tidings append` is staged, what ingest appends lies beyond what readers see: the
    /// commit applies nothing, and the pipeline applies it, in order, once the append is in.
    @Test func eventsBehindAStagedAppendAreLeftToThePipeline() async throws {
        let store = try store()
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append([order], now: now)
        let (results, batch) = try await store.append(batches: [[complaint]], now: now, projecting: inline())
        #expect(results.map(\.appended) == [1])
        #expect(batch?.processed ?? 0 == 0)
        #expect(try await store.checkpoint() == 1)
        try staged.finish()
        #expect(try store.processBatch(limit: 10, engine: engine, now: now).processed == 2)
        #expect(try store.messages().map(\.workflow) == ["confirm", "ack"])
    }

    /// What fails in the commit's batch undoes the batch alone: the events are stored, the room
    /// offered is offered again, and the pipeline applies them (here, once the cause is gone).
    @Test func anEventThatCannotBeAppliedThereIsStoredAndLeftToThePipeline() async throws {
        let store = try store()
        try await store.pool.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_ack BEFORE INSERT ON messages WHEN NEW.workflow = 'ack'
                BEGIN SELECT RAISE(ABORT, 'the test refuses acknowledgements'); END
                """)
        }
        let handoff = ClaimHandoff(owner: "dispatcher-1", lease: 60, delivered: {})
        handoff.offer([.email: 16])
        let declined = Mutex<[String]>([])
        var projecting = inline(handoff)
        projecting.declined = { error in declined.withLock { $0.append("\(error)") } }
        let (results, batch) = try await store.append(batches: [[order], [complaint]], now: now, projecting: projecting)
        #expect(results.map(\.appended) == [1, 1])
        #expect(batch == nil)
        // Told, so the daemon counts it: otherwise a fault failing every such batch would
        // show only as lost speed.
        #expect(declined.withLock { $0.count } == 1)
        #expect(declined.withLock { $0.first?.contains("the test refuses acknowledgements") } == true)
        #expect(try await store.checkpoint() == 1)
        #expect(try store.messages().isEmpty)
        #expect(handoff.offered == [.email: 16])
        #expect(!handoff.hasOutstanding)

        try await store.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse_ack") }
        #expect(try store.processBatch(limit: 10, engine: engine, now: now).processed == 2)
        #expect(try store.messages().map(\.workflow) == ["confirm", "ack"])
    }
}
