import Foundation
import Logging
import Synchronization
import Testing
import TidingsCore
@testable import TidingsDelivery
import TidingsStore

/// A running dispatcher never takes back its own sends: a lease is for a dispatcher that died.
@Suite("Dispatcher leases")
struct DispatcherLeaseTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Never called: the test drives the dispatcher's turns, and the claimed send stays in flight.
    struct Unused: Transport {
        func send(_ message: OutgoingMessage) async -> DeliveryOutcome { .sent(detail: "ok") }
        func close() {}
    }

    final class Clock: Sendable {
        let time: Mutex<Date>
        init(_ start: Date) { time = Mutex(start) }
        func now() -> Date { time.withLock { $0 } }
        func jump(_ seconds: TimeInterval) { time.withLock { $0.addTimeInterval(seconds) } }
    }

    @Test func aClockJumpPastTheLeaseDoesNotSendAMessageInFlightTwice() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-lease-\(UUID().uuidString)")
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let engine = WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "ack", on: "ticket.opened", category: .acknowledgement, channels: [.fixed(.email)], template: "ack"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
        _ = try store.append([
            CloudEvent(id: "c", source: "urn:t", type: "customer.registered", subject: "c-1", time: start, data: ["email": "a@example.com"]),
            CloudEvent(id: "t", source: "urn:t", type: "ticket.opened", subject: "t-1", time: start, data: ["customer_id": "c-1", "kind": "query"]),
        ], now: start)
        _ = try store.processBatch(limit: 100, engine: engine, now: start)
        let clock = Clock(start)
        let dispatcher = Dispatcher(
            queue: store, catalog: try TemplateCatalog(files: [:], fallbackLocale: "en"),
            channels: [.email: Dispatcher.ChannelSetup(transport: Unused(), endpoint: "test", retry: .email, gate: ChannelGate(concurrency: 4))],
            lease: 60, logger: Logger(label: "lease"), clock: clock.now)
        var unrecorded: [DeliveryRecord] = []
        let first = try #require(await dispatcher.turn(&unrecorded))
        #expect(first.send.count == 1)
        // The send is still in flight when the clock jumps a day ahead (a simulated clock set
        // forward, or the wall clock stepped): the next turn must not claim it again.
        clock.jump(86_400)
        let second = try #require(await dispatcher.turn(&unrecorded))
        #expect(second.send.isEmpty)
        #expect(try store.messages(state: .sending).count == 1)
    }

    /// A claim held so long that half its lease is gone is given back, not started: the claims
    /// about to start are looked at every step, whenever the whole queue was last swept.
    @Test func aClaimWithHalfItsLeaseGoneIsGivenBackNotStarted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-lease-\(UUID().uuidString)")
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let clock = Clock(start)
        let dispatcher = Dispatcher(
            queue: store, catalog: try TemplateCatalog(files: [:], fallbackLocale: "en"),
            channels: [.email: Dispatcher.ChannelSetup(transport: Unused(), endpoint: "test", retry: .email, gate: ChannelGate(concurrency: 4))],
            lease: 60, logger: Logger(label: "lease"), clock: clock.now)
        func claimed(_ id: Int64, leaseLeft: TimeInterval) -> OutboxMessage {
            OutboxMessage(id: id, key: "ack.\(id)", workflow: "ack", category: "acknowledgement", customerID: "c-1", subjectID: nil,
                          template: "ack", locale: "en", storedContext: Data("null".utf8), totalAttempts: 1, eventAt: nil,
                          progress: DeliveryProgress(state: .sending, route: Route(channel: .email, recipient: "a@example.com"), fallbacks: [],
                                                     attempts: 1, dueAt: start, leaseUntil: start.addingTimeInterval(leaseLeft)))
        }
        var loop = Dispatcher.Loop()
        loop.leasesCheckedAt = .now  // the whole queue was just swept
        loop.ahead[.email] = [claimed(1, leaseLeft: 20), claimed(2, leaseLeft: 50)]
        let starting = dispatcher.startable(&loop, now: clock.now())
        #expect(starting.map(\.0.id) == [2])
        #expect(loop.releasing == [1])
        #expect(loop.ahead[.email]?.isEmpty == true)
    }

    /// The room offered to the pipeline leaves out what is held of the first priority, counted
    /// wherever it stands in the queue (messages given back go to the front).
    @Test func theFirstPriorityHeldIsCountedWhereverItStands() {
        func held(_ id: Int64, _ priority: ClaimPriority) -> OutboxMessage {
            OutboxMessage(id: id, key: "m.\(id)", workflow: "ack", category: "acknowledgement", customerID: "c-1", subjectID: nil,
                          template: "ack", locale: "en", storedContext: Data("null".utf8), totalAttempts: 1, eventAt: nil,
                          progress: DeliveryProgress(state: .sending, route: Route(channel: .email, recipient: "a@example.com"), fallbacks: [],
                                                     attempts: 1, dueAt: start), priority: priority)
        }
        #expect([OutboxMessage]().firstPriorityCount == 0)
        #expect([held(1, .normal), held(2, .first), held(3, .normal), held(4, .first), held(5, .first)].firstPriorityCount == 3)
    }
}
