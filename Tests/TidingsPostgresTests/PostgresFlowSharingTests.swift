import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TidingsTestSupport
import TidingsCore
import TidingsDelivery
@testable import TidingsPostgres

/// Rate limits and circuit breakers hold for a channel as a whole when several instances send
/// from one outbox: the live dispatchers share each limit, and a pause one of them starts holds
/// the others' sends too.
@Suite("PostgreSQL: rate limits and pauses shared by the instances", .timeLimit(.minutes(5)))
struct PostgresFlowSharingTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func theOutboxTellsEachDispatcherTheLiveOnesAndThePauses() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let outbox = PostgresOutbox(backend: database)
            #expect(try await outbox.shareFlow(FlowReport(), owner: "a", now: now) == SharedFlow(instances: 1))
            let pause = ChannelPause(until: now.addingTimeInterval(30), trips: 1)
            #expect(try await outbox.shareFlow(FlowReport(pauses: [.sms: pause]), owner: "b", now: now)
                    == SharedFlow(instances: 2, pauses: [.sms: pause]))
            // A later pause of the same channel extends it; an earlier one does not shorten it.
            let longer = ChannelPause(until: now.addingTimeInterval(60), trips: 2)
            _ = try await outbox.shareFlow(FlowReport(pauses: [.sms: longer]), owner: "a", now: now)
            #expect(try await outbox.shareFlow(FlowReport(pauses: [.sms: pause]), owner: "b", now: now)?.pauses == [.sms: longer])
            // A probe that got through before the pause ends changes nothing; after, it ends it.
            _ = try await outbox.shareFlow(FlowReport(resumed: [.sms]), owner: "b", now: now.addingTimeInterval(10))
            #expect(try await outbox.shareFlow(FlowReport(), owner: "a", now: now.addingTimeInterval(10))?.pauses == [.sms: longer])
            _ = try await outbox.shareFlow(FlowReport(resumed: [.sms]), owner: "b", now: now.addingTimeInterval(61))
            #expect(try await Self.count("SELECT count(*) FROM channel_pauses", in: database) == 0)
            // A dispatcher that leaves gives its share back at once.
            #expect(try await outbox.shareFlow(FlowReport(leaving: true), owner: "b", now: now) == SharedFlow(instances: 1))
        }
    }

    /// Dispatcher `a` finds the SMS endpoint failing and pauses it; `b`, on another pool as
    /// another instance would be, sends nothing to it until the pause ends, without one failure
    /// of its own. With three alive, each gets a third of the rate limit's burst.
    @Test func aPauseAndARateLimitHoldAcrossInstances() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let catalog = try TemplateCatalog(files: ["ack/en/sms.text.mustache": "Hello"], fallbackLocale: "en")
            let failing = RecordingTransport(outcome: .transient(reason: "HTTP 503"))
            let healthy = RecordingTransport(outcome: .sent(detail: "HTTP 200"))
            let time = Mutex(now)
            let clock: @Sendable () -> Date = { time.withLock { $0 } }
            func dispatcher(_ transport: RecordingTransport, on backend: PostgresBackend, limit: RateLimiter? = nil) -> Dispatcher {
                Dispatcher(queue: PostgresOutbox(backend: backend), catalog: catalog,
                           channels: [.sms: Dispatcher.ChannelSetup(transport: transport, endpoint: "https://sms.example/send", retry: .webhook,
                                                                    gate: ChannelGate(concurrency: 8, breaker: CircuitBreaker(threshold: 3, coolDown: 30),
                                                                                      limiter: limit))],
                           logger: Logger(label: "test"), clock: clock)
            }
            try await PostgresBackend.withRunning(database.settings) { other in
                try await PostgresOutboxTests.insert(database, count: 3, channel: .sms, due: now)
                #expect(await dispatcher(failing, on: database).drain() == 3)
                #expect(failing.keys.count == 3)
                #expect(try await Self.count("SELECT count(*) FROM channel_pauses WHERE channel = 'sms'", in: database) == 1)

                try await PostgresOutboxTests.insert(database, count: 5, from: 100, channel: .sms, due: now)
                let second = dispatcher(healthy, on: other)
                #expect(await second.drain() == 0)
                #expect(healthy.keys.isEmpty)
                // The pause over, the second instance probes with one message, then sends the rest
                // (with the first three, due again).
                time.withLock { $0 = now.addingTimeInterval(31) }
                #expect(await second.drain() == 8)
                #expect(healthy.keys.count == 8)
                #expect(try await Self.count("SELECT count(*) FROM channel_pauses", in: database) == 0)

                // Three live dispatchers (two that said so just now, and this one): a burst of 6 is 2 each.
                try await PostgresOutboxTests.insert(database, count: 10, from: 200, channel: .sms, due: now.addingTimeInterval(31))
                _ = try await Self.count("WITH gone AS (DELETE FROM dispatchers RETURNING 1) SELECT count(*) FROM gone", in: database)
                // Alive for the whole step however slowly the machine runs it: liveness is the
                // database's clock (5 s), and a loaded run once took longer than that to drain.
                _ = try await Self.count("""
                    WITH added AS (INSERT INTO dispatchers (owner, seen_at) VALUES ('x', now() + interval '1 hour'), ('y', now() + interval '1 hour')
                        RETURNING 1) SELECT count(*) FROM added
                    """, in: database)
                let limited = dispatcher(healthy, on: other, limit: RateLimiter(perSecond: 6, burst: 6))
                let sent = await limited.drain()
                #expect(sent == 2)
            }
        }
    }

    static func count(_ sql: String, in database: PostgresBackend) async throws -> Int {
        try await database.connection("counting") { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: database.logger).decode(Int.self) { return value }
            return 0
        }
    }

    final class RecordingTransport: Transport, Sendable {
        let outcome: DeliveryOutcome
        let sent = Mutex<[String]>([])

        init(outcome: DeliveryOutcome) {
            self.outcome = outcome
        }

        var keys: [String] { sent.withLock { $0 } }

        func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
            sent.withLock { $0.append(message.key) }
            return outcome
        }

        func close() {}
    }
}
