import Foundation
import Synchronization
import Testing
import TidingsCore
@testable import TidingsStore

@Suite("Store: log, pipeline and outbox")
struct StoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-store-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func store() throws -> Store { try Store(path: directory.appendingPathComponent("t.sqlite").path) }

    func event(_ type: String, _ subject: String, _ data: JSONValue, id: String? = nil) -> CloudEvent {
        CloudEvent(id: id ?? "\(type)/\(subject)", source: "urn:test", type: type, subject: subject, time: now, data: data)
    }

    var day: [CloudEvent] {
        [
            event("customer.registered", "c-1", ["name": "Ann", "email": "ann@example.com", "phone": "+447700900123",
                                                 "preferences": ["channels": ["sms", "email"], "consent": ["sms": true]]]),
            event("order.placed", "o-1", ["customer_id": "c-1", "total": 10, "currency": "EUR",
                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 10]]]),
            event("order.shipped", "o-1", ["tracking_url": "https://t.example/1"]),
        ]
    }

    var engine: WorkflowEngine {
        WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "confirm", on: "order.placed", category: .transactional, channels: [.fixed(.email)], template: "confirm"),
            Workflow(id: "shipped", on: "order.shipped", category: .orderStatus, channels: [.preferred], template: "shipped"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
    }

    @Test func opensDurably() throws {
        #expect(try store().synchronousMode() == 2)  // FULL
    }

    /// The dispatcher's results and claims commit without waiting for the disk (as do a
    /// fan-out's pipeline batches): the writer is back at FULL after each, whether it committed or
    /// failed, and what it wrote is there.
    @Test func theDispatchersWriteSkipsTheSync() async throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let claim = try await store.settleAndClaim([], releasing: [], room: [.email: 10], endpoints: [:], now: now, lease: 60, owner: "test")
        #expect(!claim.messages.isEmpty)
        #expect(try store.synchronousMode() == 2)
        let during = try await store.writeWithoutSync("reading the setting") { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        #expect(during == 1)  // NORMAL, inside its transaction
        await #expect(throws: StoreError.self) {
            try await store.writeWithoutSync("failing") { db in try db.execute(sql: "INSERT INTO no_such_table VALUES (1)") }
        }
        #expect(try store.synchronousMode() == 2)
        #expect(try store.messages(state: .sending, limit: 10).count == claim.messages.count)

        // The caller cancelled while the write runs (a stopping dispatcher): the write still
        // commits, says so, and puts the setting back (GRDB refuses a cancelled access's
        // statements, the commit among them).
        let caller = Mutex<Task<Int, any Error>?>(nil)
        let (known, knowing) = AsyncStream<Void>.makeStream()
        let task = Task {
            for await _ in known { break }  // until the task is known to the body below
            return try await store.writeWithoutSync("cancelled midway") { db in
                caller.withLock { $0?.cancel() }
                try db.execute(sql: "UPDATE messages SET attempts = attempts + 1 WHERE state = 'sending'")
                return db.changesCount
            }
        }
        caller.withLock { $0 = task }
        knowing.yield()
        let outcome = await task.result
        #expect(task.isCancelled)
        #expect((try? outcome.get()) == claim.messages.count, "\(outcome)")
        #expect(try store.synchronousMode() == 2)
    }

    /// `serve` and a `status` beside it may both open a fresh database: each must find it
    /// migrated, not fail on a table the other just created.
    @Test func processesOpeningAFreshDatabaseAtOnceTakeTurnsToMigrate() async throws {
        for round in 0..<20 {
            let path = directory.appendingPathComponent("fresh-\(round).sqlite").path
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let failures = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        do { _ = try Store(path: path, durability: .normal); return nil } catch { return "\(error)" }
                    }
                }
                return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "round \(round): \(failures.first ?? "")")
        }
    }

    @Test func appendingTheSameEventTwiceStoresItOnce() throws {
        let store = try store()
        let first = try store.append(day, now: now)
        #expect(first.positions == [1, 2, 3])
        let second = try store.append(day + [event("order.delivered", "o-1", [:])], now: now)
        #expect(second.positions == [4])
        #expect(second.alreadyStored == 3)
        #expect(try store.head() == 4)
    }

    /// `tidings append` writes in short transactions, yet readers see all of it or nothing:
    /// nothing at or after its first event is read until it finishes, and an abandoned one is
    /// gone without a trace.
    @Test func aStagedAppendIsInvisibleUntilItFinishesAndGoneIfAbandoned() throws {
        let store = try store()
        _ = try store.append([day[0]], now: now)
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append([day[1]], now: now)
        _ = try store.append([day[2]], now: now)  // HTTP ingest meanwhile: after the append's first event
        #expect(try store.head() == 1)
        #expect(try store.processBatch(limit: 100, engine: engine, now: now).checkpoint == 1)
        try staged.finish()
        #expect(staged.appended == 1)
        #expect(try store.head() == 3)
        #expect(try store.processBatch(limit: 100, engine: engine, now: now).checkpoint == 3)

        var abandoned = try store.beginAppend(id: "a2", now: now)
        try abandoned.append([event("order.delivered", "o-1", [:])], now: now)
        _ = try store.append([event("order.refunded", "o-1", [:])], now: now)
        #expect(try store.head() == 3)
        #expect(try store.abandonAppends(where: { $0 == "a2" }) == 1)
        #expect(try store.events(after: 3, limit: 10).map(\.event.type) == ["order.refunded"])
        #expect(try store.appendsInProgress().isEmpty)
        #expect(throws: StoreError.self) { try abandoned.finish() }
    }

    /// An event another append has staged is not "already stored": that append may still be
    /// abandoned, and a sender told 2xx would never send it again.
    @Test func anEventStagedByAnotherAppendIsNotCountedAsStored() throws {
        let store = try store()
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append([day[0]], now: now)
        let meanwhile = try store.append([day[0], day[1]], now: now)
        #expect(meanwhile == AppendResult(positions: [2], alreadyStored: 0, stagedElsewhere: 1))
        var second = try store.beginAppend(id: "a2", now: now)
        try second.append([day[0]], now: now)
        #expect(second.stagedElsewhere == 1)
        try second.finish()
        try staged.abandon()
        #expect(try store.append([day[0]], now: now) == AppendResult(positions: [3], alreadyStored: 0))
        #expect(try store.append([day[0], day[1]], now: now) == AppendResult(positions: [], alreadyStored: 2))
        // A finished append's events are stored, like any other.
        var third = try store.beginAppend(id: "a3", now: now)
        try third.append([day[2]], now: now)
        try third.finish()
        #expect(try store.append([day[2]], now: now) == AppendResult(positions: [], alreadyStored: 1))
    }

    /// The reaper lists the appends in progress, then abandons those whose process is gone: an
    /// append that finished and exited in between keeps its events, which are visible by then.
    @Test func anAppendThatFinishedIsNotAbandonedAfterAll() throws {
        let store = try store()
        var staged = try store.beginAppend(id: "a1", now: now)
        try staged.append(day, now: now)
        try staged.finish()
        try store.abandonAppend("a1")
        #expect(try store.head() == 3)
    }

    @Test func thePipelineAppliesEachEventExactlyOnce() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        let batch = try store.processBatch(limit: 2, engine: engine, now: now)
        #expect(batch.processed == 2)
        #expect(batch.checkpoint == 2)
        #expect(batch.readyByChannel == [.email: 1])
        let rest = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(rest.processed == 1)
        #expect(rest.readyByChannel == [.sms: 1])
        #expect(try store.processBatch(limit: 100, engine: engine, now: now).processed == 0)
        #expect(try store.order(id: "o-1")?.status == .shipped)
        #expect(try store.messages().map(\.workflow) == ["confirm", "shipped"])
    }

    /// While requests wait for the writer, a batch commits what it has applied and stops; the
    /// next one goes on from there, and nothing is applied twice or left out.
    @Test func aBatchGivesUpTheWriterWhenRequestsWait() async throws {
        let store = try store()
        _ = try store.append(day, now: now)
        let now = self.now
        let first = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 1000,
                                                 yielding: Yielding(stride: 1, waiting: { true }))
        #expect(first.processed == 1)
        #expect(first.yielded)
        #expect(first.checkpoint == 1)
        #expect(try await store.checkpoint() == 1)
        let rest = try await store.processBatch(limit: 100, engine: engine, now: { now }, fanoutLimit: 1000,
                                                yielding: Yielding(stride: 1, waiting: { false }))
        #expect(rest.processed == 2)
        #expect(!rest.yielded)
        #expect(rest.checkpoint == 3)
        #expect(try store.messages().map(\.workflow) == ["confirm", "shipped"])
    }

    @Test func replayingFromZeroDoesNotDuplicateMessages() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM orders; DELETE FROM customers; UPDATE checkpoints SET position = 0")
        }
        let again = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(again.processed == 3)
        #expect(again.readyByChannel.isEmpty)
        #expect(try store.messages().count == 2)
    }

    func settle(_ message: OutboxMessage, _ outcome: DeliveryOutcome, at time: Date, policy: RetryPolicy = .webhook) -> DeliveryRecord {
        DeliveryRecord(message: message, outcome: outcome,
                       next: OutboxStateMachine.settle(message.progress, outcome: outcome, now: time, policy: policy, jitter: 0.5))
    }

    @Test func claimsLeaseRetryAndDie() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let claimed = try store.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "d1")
        #expect(claimed.count == 1)
        #expect(claimed.first?.progress.attempts == 1)
        #expect(try store.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "d1").isEmpty)
        // Its own claim is never taken back by a live dispatcher, whatever its clock says: the
        // send is still in flight.
        #expect(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(3_600), lease: 60, owner: "d1").isEmpty)
        // The lease runs out and the sender died: another dispatcher claims the same message again.
        let reclaimed = try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(61), lease: 60, owner: "d2")
        #expect(reclaimed.map(\.key) == claimed.map(\.key))
        #expect(reclaimed.first?.totalAttempts == 2)
        let message = try #require(reclaimed.first)
        let policy = RetryPolicy(maxAttempts: 3, initialDelay: 300, maximumDelay: 300)
        try store.record([settle(message, .transient(reason: "SMTP 451"), at: now.addingTimeInterval(62), policy: policy)],
                         now: now.addingTimeInterval(62))
        #expect(try store.messages(state: .retrying).first?.lastError == "SMTP 451")
        #expect(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(100), lease: 60, owner: "d1").isEmpty)
        let retried = try #require(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(400), lease: 60, owner: "d1").first)
        try store.record([settle(retried, .permanent(reason: "SMTP 550 no such user"), at: now.addingTimeInterval(401))],
                         now: now.addingTimeInterval(401))
        let dead = try #require(try store.messages(state: .dead).first)
        #expect(dead.lastError == "email: SMTP 550 no such user")
        #expect(dead.attempts == 3)
        #expect(try store.retry(messageID: dead.id, now: now, by: OperatorAction.Actor(via: .cli, name: "test")) == 1)
        #expect(try store.messages(state: .dead).isEmpty)
        #expect(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(402), lease: 60, owner: "d1").first?.progress.attempts == 1)
    }

    /// A backlog of shipped notices does not hold up a complaint's acknowledgement that came
    /// after them; follow-ups wait for everything else. (Apologies: `ClaimPriorityTests`.)
    @Test func claimsTakeAcknowledgementsFirstAndFollowUpsLast() throws {
        let store = try store()
        let workflows = WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "shipped", on: "order.shipped", category: .orderStatus, channels: [.fixed(.email)], template: "shipped"),
            Workflow(id: "ack", on: "ticket.opened", category: .acknowledgement, channels: [.fixed(.email)], template: "ack"),
            Workflow(id: "resolved", on: "ticket.resolved", category: .followUp, channels: [.fixed(.email)], template: "resolved"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
        var events = [event("customer.registered", "c-1", ["email": "ann@example.com"])]
        for n in 0..<20 {
            events.append(event("order.placed", "o-\(n)", ["customer_id": "c-1", "total": 1, "currency": "EUR",
                                                          "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]))
        }
        events.append(event("ticket.opened", "t-1", ["customer_id": "c-1", "kind": "complaint", "subject": "late"]))
        events.append(event("ticket.resolved", "t-1", [:]))
        events += (0..<20).map { event("order.shipped", "o-\($0)", [:]) }
        events.append(event("ticket.opened", "t-2", ["customer_id": "c-1", "kind": "complaint", "subject": "broken"]))
        _ = try store.append(events, now: now)
        _ = try store.processBatch(limit: 100, engine: workflows, now: now)
        var claims: [[String]] = []
        while case let claimed = try store.claim(channel: .email, limit: 2, now: now.addingTimeInterval(1), lease: 60, owner: "me"), !claimed.isEmpty {
            claims.append(claimed.map(\.workflow).sorted())
        }
        #expect(claims.joined().count == 23, "\(claims)")
        #expect(claims.first == ["ack", "ack"], "\(claims)")
        #expect(claims.last == ["resolved"] && !claims.dropLast().joined().contains("resolved"), "\(claims)")
    }

    @Test func aDeadChannelFallsBackToTheNextRoute() throws {
        let store = try store()
        _ = try store.append(day + [event("customer.updated", "c-1", ["preferences": ["channels": ["sms", "email"]]])], now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let sms = try #require(try store.claim(channel: .sms, limit: 10, now: now, lease: 60, owner: "d1").first)
        #expect(sms.progress.fallbacks == [Route(channel: .email, recipient: "ann@example.com")])
        try store.record([settle(sms, .permanent(reason: "HTTP 400"), at: now)], now: now)
        let email = try #require(try store.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "d1").first { $0.key == sms.key })
        #expect(email.recipient == "ann@example.com")
        #expect(email.progress.lastError == "sms: HTTP 400; falling back to email")
        let history = try store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT channel || ':' || outcome FROM message_attempts WHERE message_id = ? ORDER BY attempt",
                                arguments: [sms.id])
        }
        #expect(history == ["sms:permanent"])
    }

    /// The day applied with `more` workflows, each by email on its event.
    func dayApplied(_ store: Store, with more: [(id: String, on: String, category: Workflow.Category)]) throws -> WorkflowEngine {
        var engine = self.engine
        for workflow in more {
            engine.workflows.workflows.append(
                Workflow(id: workflow.id, on: workflow.on, category: workflow.category, channels: [.fixed(.email)], template: workflow.id))
        }
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        return engine
    }

    @Test func aLaterOrderStatusSuppressesAnUnsentOne() throws {
        let store = try store()
        let engine = try dayApplied(store, with: [("delivered", "order.delivered", .orderStatus), ("ack", "order.delivered", .acknowledgement)])
        // The shipped notice (sms) is still unsent when the order is delivered.
        _ = try store.append([event("order.delivered", "o-1", [:])], now: now)
        let batch = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(batch.suppressed == 1)
        let suppressed = try store.messages(state: .suppressed)
        #expect(suppressed.map(\.workflow) == ["shipped"])
        #expect(suppressed.first?.lastError == "superseded by delivered (order.delivered)")
        // The receipt is transactional and the acknowledgement never goes stale.
        #expect(try store.messages(state: .pending).map(\.workflow).sorted() == ["ack", "confirm", "delivered"])
    }

    /// Every unsent one goes, a retrying one too, and each is counted on its own channel; one
    /// on its way stays.
    @Test func aLaterOrderStatusSuppressesEveryUnsentOneOnItsChannel() throws {
        let store = try store()
        let engine = try dayApplied(store, with: [("out", "order.out_for_delivery", .orderStatus), ("delivered", "order.delivered", .orderStatus)])
        // The shipped notice (sms) is on its way when the order goes out for delivery: it stays.
        let sms = try #require(try store.claim(channel: .sms, limit: 10, now: now, lease: 60, owner: "d1").first { $0.workflow == "shipped" })
        _ = try store.append([event("order.out_for_delivery", "o-1", [:])], now: now)
        #expect(try store.processBatch(limit: 100, engine: engine, now: now).suppressed == 0)
        // It fails for now and waits for its retry, beside the pending email.
        try store.record([settle(sms, .transient(reason: "HTTP 503"), at: now)], now: now)
        _ = try store.append([event("order.delivered", "o-1", [:])], now: now)
        let batch = try store.processBatch(limit: 100, engine: engine, now: now)
        #expect(batch.suppressedByChannel == [.sms: 1, .email: 1])
        #expect(try store.messages(state: .suppressed).map(\.workflow).sorted() == ["out", "shipped"])
        #expect(try store.messages(state: .pending).map(\.workflow).contains("delivered"))
    }

    @Test func oneTurnRecordsResultsAndClaimsTogether() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let first = try store.settleAndClaim([], room: [.email: 5, .sms: 0], now: now, lease: 60, owner: "d1").messages
        #expect(first.map(\.workflow) == ["confirm"])
        let sent = settle(try #require(first.first), .sent(detail: "SMTP 250"), at: now)
        let second = try store.settleAndClaim([sent], room: [.email: 5, .sms: 5], now: now, lease: 60, owner: "d1").messages
        #expect(second.map(\.workflow) == ["shipped"])
        #expect(try store.messages(state: .sent).map(\.workflow) == ["confirm"])
    }

    @Test func aGoneEndpointIsDisabledUntilEnabledAgain() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let endpoints: [Channel: String] = [.sms: "https://sms.example/hook", .email: "smtp://mx.example"]
        let sms = try #require(try store.settleAndClaim([], room: [.sms: 1], endpoints: endpoints, now: now, lease: 60, owner: "d1").messages.first)
        let gone = settle(sms, .gone(reason: "HTTP 410 Gone"), at: now)
        #expect(gone.next.state == .pending)  // falls back to email
        let claim = try store.settleAndClaim([gone], room: [.sms: 0], endpoints: endpoints, now: now, lease: 60, owner: "d1")
        #expect(claim.disabled[.sms]?.reason == "HTTP 410 Gone")
        #expect(claim.disabled[.email] == nil)
        // Another URL for the channel is not disabled: the operator has moved on.
        #expect(try store.settleAndClaim([], room: [:], endpoints: [.sms: "https://new.example"], now: now, lease: 60, owner: "d1").disabled.isEmpty)
        #expect(try store.disabledEndpoints().map(\.target) == ["https://sms.example/hook"])
        #expect(try store.enableEndpoints(channel: .sms, now: Date(), by: OperatorAction.Actor(via: .cli, name: "test")) == 1)
        #expect(try store.settleAndClaim([], room: [:], endpoints: endpoints, now: now, lease: 60, owner: "d1").disabled.isEmpty)
    }

    @Test func interruptedClaimsAreReleasedWithTheirLostAttemptInTheHistory() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        let claimed = try store.claim(channel: .email, limit: 10, now: now, lease: 600, owner: "d1")
        #expect(claimed.first?.progress.routeStartedAt == now)
        #expect(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(1), lease: 600, owner: "d1").isEmpty)
        #expect(try store.releaseInterruptedClaims(now: now.addingTimeInterval(2)) == 1)
        let again = try #require(try store.claim(channel: .email, limit: 10, now: now.addingTimeInterval(2), lease: 600, owner: "d1").first)
        #expect(again.key == claimed.first?.key)
        #expect(again.totalAttempts == 2)
        #expect(again.progress.routeStartedAt == now)  // the give-up clock keeps running
        let history = try store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT attempt || ':' || outcome FROM message_attempts WHERE message_id = ?", arguments: [again.id])
        }
        #expect(history == ["1:interrupted"])
    }

    @Test func statusShowsHeadLagAndOutbox() throws {
        let store = try store()
        _ = try store.append(day, now: now)
        var status = try store.status(now: now)
        #expect(status.head == 3)
        #expect(status.lag == 3)
        #expect(!status.isIdle)
        _ = try store.processBatch(limit: 100, engine: engine, now: now)
        status = try store.status(now: now)
        #expect(status.lag == 0)
        #expect(status.count(.pending) == 2)
        #expect(status.outbox[.pending] == ["email": 1, "sms": 1])
    }
}
