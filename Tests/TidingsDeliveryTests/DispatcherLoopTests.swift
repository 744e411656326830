import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TidingsCore
@testable import TidingsDelivery
import TidingsStore

/// The running dispatcher claims ahead of its sends and records behind them; stopping gives
/// back what it claimed and never sent, as if it had never been claimed.
@Suite("Dispatcher loop")
struct DispatcherLoopTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Sends, and asks the service group to stop at the `stopAt`th send.
    /// With `givesBackFirst`, it gives each message back unsent once, as a transport holding
    /// it for a connection too long would.
    /// With `answersAfter`, it answers on a queue of its own after that long, as the curl
    /// transports answer on their worker's queue, with no task waiting per send.
    final class StoppingTransport: Transport, Sendable {
        let stopAt: Int
        let givesBackFirst: Bool
        let answersAfter: Double?
        let answers = DispatchQueue(label: "answers")
        let sent = Mutex<[String]>([])
        let givenBack = Mutex<Set<String>>([])
        let stop = Mutex<(@Sendable () async -> Void)?>(nil)

        init(stopAt: Int, givesBackFirst: Bool = false, answersAfter: Double? = nil) {
            self.stopAt = stopAt
            self.givesBackFirst = givesBackFirst
            self.answersAfter = answersAfter
        }

        func start(_ message: OutgoingMessage, then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
            guard let answersAfter else {
                Task { done(await attempt(message)) }
                return
            }
            let last = sent.withLock { sent in sent.append(message.key); return sent.count == stopAt }
            let answer: @Sendable () -> Void = { [answers] in answers.asyncAfter(deadline: .now() + answersAfter) { done(.sent(detail: "250 ok")) } }
            // None answers before the dispatcher has stopped starting sends (it gives back what
            // transports hold when it leaves its loop): sends in flight then are certain, and
            // no answer frees room for another send before the stop is seen, however slow the
            // machine.
            let waiting = unanswered.withLock { unanswered -> Bool in
                guard let list = unanswered else { return false }
                unanswered = list + [answer]
                return true
            }
            if !waiting { answer() }
            if last, let stop = stop.withLock({ $0 }) { Task { await stop() } }
        }

        /// The dispatcher left its loop: the held answers come now.
        func giveBack() {
            for answer in unanswered.withLock({ unanswered in defer { unanswered = nil }; return unanswered ?? [] }) { answer() }
        }

        /// Answers held until the dispatcher leaves its loop; nil from then on.
        let unanswered = Mutex<[@Sendable () -> Void]?>([])

        /// Sends, or gives the message back unsent the first time (`givesBackFirst`).
        func attempt(_ message: OutgoingMessage) async -> DeliveryOutcome? {
            if givesBackFirst, givenBack.withLock({ $0.insert(message.key).inserted }) { return nil }
            return await send(message)
        }

        func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
            let last = sent.withLock { sent in sent.append(message.key); return sent.count == stopAt }
            if last, let stop = stop.withLock({ $0 }) { await stop() }
            return .sent(detail: "250 ok")
        }

        func close() {}
    }

    func store(tickets: Int) throws -> Store {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-loop-\(UUID().uuidString)")
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let customer = CloudEvent(id: "c", source: "urn:t", type: "customer.registered", subject: "c-1", time: start, data: ["email": "a@example.com"])
        _ = try store.append([customer] + queries(tickets), now: start)
        _ = try store.processBatch(limit: 1000, engine: engine, now: start)
        return store
    }

    /// `count` query tickets of customer c-1, each acknowledged by email.
    func queries(_ count: Int) -> [CloudEvent] {
        (0..<count).map { n in
            CloudEvent(id: "t\(n)", source: "urn:t", type: "ticket.opened", subject: "t-\(n)", time: start, data: ["customer_id": "c-1", "kind": "query"])
        }
    }

    let engine = WorkflowEngine(workflows: WorkflowSet(workflows: [
        Workflow(id: "ack", on: "ticket.opened", category: .acknowledgement, channels: [.fixed(.email)], template: "ack"),
    ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))

    func dispatcher(_ queue: any OutboxQueue, _ transport: StoppingTransport, concurrency: Int,
                    pollInterval: Duration = .milliseconds(250), lease: TimeInterval = 120, limiter: RateLimiter? = nil) throws -> Dispatcher {
        Dispatcher(
            queue: queue, catalog: try TemplateCatalog(files: ["ack/en/email.subject.mustache": "Hi", "ack/en/email.text.mustache": "Hello",
                                                          "ack/en/email.html.mustache": "<p>Hello</p>"], fallbackLocale: "en"),
            channels: [.email: Dispatcher.ChannelSetup(transport: transport, endpoint: "test", retry: .email,
                                                       gate: ChannelGate(concurrency: concurrency, limiter: limiter))],
            lease: lease, pollInterval: pollInterval, logger: Logger(label: "loop"), clock: { [start] in start })
    }

    /// Runs a dispatcher on `store` in a service group until `transport` asks it to stop;
    /// `started` runs beside it.
    func run(_ store: Store, _ transport: StoppingTransport, concurrency: Int, pollInterval: Duration = .milliseconds(250),
             queue: (any OutboxQueue)? = nil, fanningOut: Bool = false, lease: TimeInterval = 120, limiter: RateLimiter? = nil,
             started: @escaping @Sendable (Dispatcher) async throws -> Void = { _ in }) async throws {
        let dispatcher = try dispatcher(queue ?? store, transport, concurrency: concurrency, pollInterval: pollInterval, lease: lease,
                                        limiter: limiter)
        dispatcher.fanningOut(fanningOut)
        let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: Logger(label: "loop")))
        transport.stop.withLock { $0 = { await group.triggerGracefulShutdown() } }
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                do {
                    try await started(dispatcher)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
            }
            try await tasks.waitForAll()
        }
    }

    /// Polls `condition` until it holds; throws (and so stops the dispatcher) after 10 s.
    func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Appends `tickets` queries and applies them in a batch that claims for `dispatcher`, once
    /// it offers room (after its first claim told it which endpoints are disabled).
    func handOver(tickets: Int, from store: Store, to dispatcher: Dispatcher) async throws -> PipelineBatch {
        try await until { dispatcher.handoff.offered[.email, default: 0] > 0 }
        let start = self.start
        _ = try store.append(queries(tickets), now: start)
        return try await store.processBatch(limit: 100, engine: engine, now: { start }, fanoutLimit: 0, yielding: .never, handoff: dispatcher.handoff)
    }

    /// A write that came back slowly (the writer held by a fan-out) widens the window for the
    /// next, in steps of a quick write, up to `mostDepth`; a quick one narrows it again.
    @Test func theWindowFollowsHowLongTheLastWriteTook() {
        #expect(Dispatcher.depth(after: .zero) == 1)
        #expect(Dispatcher.depth(after: .microseconds(500)) == 1)
        #expect(Dispatcher.depth(after: .milliseconds(16)) == 1)
        #expect(Dispatcher.depth(after: .milliseconds(17)) == 2)
        #expect(Dispatcher.depth(after: .milliseconds(40)) == 3)
        #expect(Dispatcher.depth(after: .seconds(2)) == Dispatcher.mostDepth)
    }

    /// What the pipeline claims for the running dispatcher is sent, though nobody rang it.
    /// The poll interval is long, so only the handover can have woken it in time.
    @Test func claimsHandedOverAreSentWithoutARing() async throws {
        let store = try store(tickets: 0)
        let transport = StoppingTransport(stopAt: 5)
        try await run(store, transport, concurrency: 4, pollInterval: .seconds(60)) { dispatcher in
            let batch = try await handOver(tickets: 5, from: store, to: dispatcher)
            #expect(batch.handedOff == [.email: 5])
            #expect(!batch.dispatcherMustClaim)
            // Sent long before the poll interval would have woken the dispatcher.
            try await until { transport.sent.withLock { $0.count } == 5 }
        }
        #expect(transport.sent.withLock { $0.count } == 5)
        #expect(try store.messages(state: .sent, limit: 100).count == 5)
    }

    /// A batch that reserved room before the stop still hands its claims over after it: the
    /// dispatcher waits for it, and gives them back with the rest, never leaving them claimed.
    @Test func claimsHandedOverDuringTheStopAreGivenBack() async throws {
        let store = try store(tickets: 0)
        let transport = StoppingTransport(stopAt: 1)
        let start = self.start
        try await run(store, transport, concurrency: 1, pollInterval: .seconds(60)) { dispatcher in
            try await until { dispatcher.handoff.offered[.email, default: 0] > 0 }
            // New messages the dispatcher is not told of, claimed here as by a batch holding
            // room when the stop comes: none is sent.
            _ = try store.append(queries(3), now: start)
            _ = try store.processBatch(limit: 100, engine: engine, now: start)
            let room = dispatcher.handoff.reserve()
            let claimed = try store.claim(channel: .email, limit: 10, now: start, lease: 60, owner: dispatcher.owner)
            #expect(claimed.count == 3)
            if let stop = transport.stop.withLock({ $0 }) { await stop() }
            try await until { dispatcher.handoff.isClosed }
            dispatcher.handoff.deliver(claimed, reserved: room)
        }
        #expect(transport.sent.withLock { $0.isEmpty })
        let messages = try store.messages(limit: 100)
        #expect(messages.count == 3)
        #expect(messages.allSatisfy { $0.state == .pending && $0.attempts == 0 })
    }

    /// What was sent is recorded as sent; the rest of the `total` messages are pending as before,
    /// with no attempt counted.
    func expectSentRecordedAndTheRestUntouched(_ store: Store, sent: Int, of total: Int) throws {
        let messages = try store.messages(limit: 100)
        #expect(messages.filter { $0.state == .sent }.count == sent)
        let pending = messages.filter { $0.state == .pending }
        #expect(pending.count == total - sent)
        #expect(pending.allSatisfy { $0.attempts == 0 })
        for message in pending { #expect(try store.attempts(messageID: message.id).isEmpty) }
    }

    /// Claims handed over and never sent are given back at the stop, as the dispatcher's own are.
    @Test func stoppingGivesBackTheClaimsHandedOver() async throws {
        let store = try store(tickets: 0)
        let transport = StoppingTransport(stopAt: 1)
        try await run(store, transport, concurrency: 1, pollInterval: .seconds(60)) { dispatcher in
            let batch = try await handOver(tickets: 4, from: store, to: dispatcher)
            #expect(batch.handedOff == [.email: 4])
        }
        let sent = transport.sent.withLock { $0.count }
        #expect(sent >= 1 && sent < 4)
        try expectSentRecordedAndTheRestUntouched(store, sent: sent, of: 4)
    }

    /// A stop waits for the sends a transport answers on its own queue (no task waits for
    /// them), records them, and gives back the rest.
    /// The answers wait for the stop to be seen: a stop never seen fails the test after a minute.
    @Test(.timeLimit(.minutes(1))) func aStopWaitsForSendsAnsweredOnTheTransportsQueue() async throws {
        let store = try store(tickets: 10)
        let transport = StoppingTransport(stopAt: 1, answersAfter: 0.2)
        try await run(store, transport, concurrency: 4)
        let sent = transport.sent.withLock { $0.count }
        #expect(sent >= 1 && sent < 10)
        try expectSentRecordedAndTheRestUntouched(store, sent: sent, of: 10)
    }

    @Test func stoppingGivesBackTheClaimsItNeverSent() async throws {
        let store = try store(tickets: 10)
        let transport = StoppingTransport(stopAt: 1)
        try await run(store, transport, concurrency: 1)

        // What was sent is recorded; everything else (claimed ahead, sixteen per slot, or never
        // claimed) is pending as before, with no attempt counted. A send or two may start
        // while the stop is on its way.
        let sent = transport.sent.withLock { $0.count }
        #expect(sent < 10)
        try expectSentRecordedAndTheRestUntouched(store, sent: sent, of: 10)
    }

    /// The store, with every write 30 ms slow (the writer held by someone else), noting how
    /// many messages each write asked to claim.
    final class SlowQueue: OutboxQueue {
        let store: Store
        let asked = Mutex<[Int]>([])

        init(_ store: Store) { self.store = store }

        var windowPerSlot: Int { store.windowPerSlot }

        func settleAndClaim(_ records: [DeliveryRecord], releasing: [Int64], room: [Channel: Int], endpoints: [Channel: String], now: Date,
                            lease: TimeInterval, owner: String) async throws -> OutboxClaim {
            asked.withLock { $0.append(room[.email] ?? 0) }
            try await Task.sleep(for: .milliseconds(30))
            return try await store.settleAndClaim(records, releasing: releasing, room: room, endpoints: endpoints, now: now, lease: lease, owner: owner)
        }

        func record(_ records: [DeliveryRecord], now: Date) async throws { try await store.record(records, now: now) }
        func releaseInterruptedClaims(now: Date) async throws -> Int { try await store.releaseInterruptedClaims(now: now) }
    }

    /// Slow writes widen the window only while the pipeline says a fan-out runs: then a claim
    /// asks for more than the queue's `windowPerSlot` per unit of concurrency; otherwise never.
    @Test(arguments: [false, true]) func slowWritesWidenTheWindowOnlyDuringAFanOut(fanningOut: Bool) async throws {
        let store = try store(tickets: 200)
        let queue = SlowQueue(store)
        let transport = StoppingTransport(stopAt: 200)
        try await run(store, transport, concurrency: 2, pollInterval: .milliseconds(20), queue: queue, fanningOut: fanningOut)
        let usual = 2 * Store.windowPerSlot
        let most = queue.asked.withLock { $0.max() ?? 0 }
        #expect(fanningOut ? most > usual : most <= usual, "asked for at most \(most), the usual window is \(usual)")
        #expect(Set(transport.sent.withLock { $0 }).count == 200)
        #expect(try store.messages(state: .sent, limit: 1000).count == 200)
    }

    /// A rate-limited channel claims no further ahead than its rate sends in a quarter of a
    /// lease, however wide the queue's window: claims held past half their lease are given back.
    @Test func aRateLimitedChannelClaimsWhatItsRateSendsInAQuarterOfALease() async throws {
        let store = try store(tickets: 40)
        let queue = SlowQueue(store)
        let transport = StoppingTransport(stopAt: 40)
        // 20 a second, a lease of 4 s: 20 claims at most, where the window alone allows 32. The
        // test's clock stands still, so the burst lets every message go.
        try await run(store, transport, concurrency: 2, pollInterval: .milliseconds(20), queue: queue, lease: 4,
                      limiter: RateLimiter(perSecond: 20, burst: 40))
        let most = queue.asked.withLock { $0.max() ?? 0 }
        #expect(most > 0 && most <= 20, "asked for at most \(most)")
        #expect(2 * Store.windowPerSlot > 20)
        #expect(Set(transport.sent.withLock { $0 }).count == 40)
    }

    @Test func everyMessageIsSentOnceAndRecorded() async throws {
        let store = try store(tickets: 300)
        let transport = StoppingTransport(stopAt: 300)
        try await run(store, transport, concurrency: 8, pollInterval: .milliseconds(20))
        let keys = transport.sent.withLock { $0 }
        #expect(keys.count == 300)
        #expect(Set(keys).count == 300)
        #expect(try store.messages(state: .sent, limit: 1000).count == 300)
    }

    /// A send given back unsent goes back to the front of the claims and starts again: each
    /// message is sent once, with one attempt counted, and its slot is not lost.
    @Test func sendsGivenBackStartAgainWithoutAnAttemptCounted() async throws {
        let store = try store(tickets: 40)
        let transport = StoppingTransport(stopAt: 40, givesBackFirst: true)
        try await run(store, transport, concurrency: 2, pollInterval: .milliseconds(20))
        let keys = transport.sent.withLock { $0 }
        #expect(Set(keys).count == 40 && keys.count == 40)
        #expect(transport.givenBack.withLock { $0.count } == 40)
        let messages = try store.messages(state: .sent, limit: 1000)
        #expect(messages.count == 40)
        #expect(messages.allSatisfy { $0.attempts == 1 }, "\(messages.map(\.attempts))")
    }

    /// A send given back unsent goes back to the front of the claims, unless a forget withdrew
    /// its claim while it was in flight: then it is dropped, never started again.
    @Test(arguments: [false, true]) func aSendGivenBackAfterAForgetIsDropped(forgotten: Bool) async throws {
        let store = try store(tickets: 1)
        let dispatcher = try dispatcher(store, StoppingTransport(stopAt: 1), concurrency: 1)
        let claim = try await store.settleAndClaim([], releasing: [], room: [.email: 1], endpoints: [:], now: start, lease: 60,
                                                   owner: dispatcher.owner)
        let message = try #require(claim.messages.first)
        var loop = Dispatcher.Loop()
        loop.ahead[.email] = [message]
        #expect(dispatcher.startable(&loop, now: start).count == 1)
        // The loop's next write comes back, withdrawing the claim if the customer was forgotten.
        let written = OutboxClaim(messages: [], disabled: [:], withdrawn: forgotten ? [message.id] : [])
        dispatcher.written.withLock { $0 = Dispatcher.Written(wanted: [:], sends: [:], result: .success(written), records: [], releasing: [], took: .zero) }
        loop.writing = true
        dispatcher.absorb(&loop)
        dispatcher.givenBack.withLock { $0.append(message) }
        dispatcher.takeBack(dispatcher.takeGivenBack(), into: &loop)
        #expect(loop.ahead[.email, default: []].map(\.id) == (forgotten ? [] : [message.id]))
        #expect(loop.withdrawnInFlight.isEmpty)
        #expect(dispatcher.gates.withLock { $0.gates[.email]?.inFlight } == 0)
    }
}
