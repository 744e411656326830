import Foundation
import Logging
import MetricsTestKit
import Testing
import TidingsApp
import TidingsCore
import TidingsDelivery
import TidingsStore

/// The dispatcher's per-channel gates against real transports, on an injected clock, on both
/// backends: a 410 disables an endpoint and its messages fall back; a rate limit spaces sends.
@Suite("Dispatcher gates")
struct DispatcherGateTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Customers who prefer SMS, then email; each opens a complaint, acknowledged at once.
    func complaints(_ count: Int) -> [CloudEvent] {
        (0..<count).flatMap { n -> [CloudEvent] in
            [CloudEvent(id: "c-\(n)", source: "urn:gate", type: "customer.registered", subject: "c-\(n)", time: start,
                        data: ["name": .string("Customer \(n)"), "email": .string("c\(n)@example.com"),
                               "phone": .string("+4477009000\(n)"),
                               "preferences": ["channels": ["sms", "email"], "consent": ["sms": true]]]),
             CloudEvent(id: "t-\(n)", source: "urn:gate", type: "ticket.opened", subject: "t-\(n)", time: start,
                        data: ["customer_id": .string("c-\(n)"), "kind": "complaint", "summary": "Late"])]
        }
    }

    func runtime(_ directory: URL, _ environment: [String: String]) async throws -> (Runtime, [String: String]) {
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal"]) { $1 }.merging(environment) { $1 }
        return (try await Runtime.load(configPath: env["TIDINGS_CONFIG"]!, environment: env), env)
    }

    @Test(arguments: TestBackend.allCases)
    func a410DisablesTheEndpointAndItsMessagesFallBackUntilItIsEnabled(_ backend: TestBackend) async throws {
        let directory = try Paths.temporaryDirectory("gone")
        let server = try await LoopbackServer.http(logs: directory)
        let (runtime, env) = try await runtime(directory, [
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(server.port)/status/410",
            "SMS_CONCURRENCY": "1",
        ])
        try await backend.with(env, runtime: runtime, events: complaints(3), now: start) { opened in
            let clock = ManualClock(start)
            let metrics = TestMetrics()
            let dispatcher = Dispatcher(queue: opened.outbox, catalog: runtime.catalog, channels: try runtime.channelSetups(),
                                        logger: Logger(label: "gone"), metrics: metrics, clock: clock.now)
            await dispatcher.drain()
            try await server.stop()

            // One request met the 410 (a drain hands over no more than the connections: nothing
            // is held); the other two never went to the endpoint.
            #expect(try server.received().count == 1)
            let messages = try await opened.reads.messages(state: nil, customerID: nil, subjectID: nil, id: nil, after: nil, limit: 100)
            #expect(messages.count == 3)
            #expect(messages.allSatisfy { $0.state == .sent && $0.channel == "email" }, "\(messages.map { "\($0.state) \($0.channel ?? "")" })")
            #expect(messages.allSatisfy { $0.lastError == nil })
            let history = try await opened.reads.attempts(messageID: try #require(messages.first).id)
            #expect(history.map(\.outcome) == ["gone", "sent"])
            #expect(history.map(\.channel) == ["sms", "email"])
            #expect(try metrics.expectCounter("tidings_message_fallbacks_total", [("channel", "sms"), ("to", "email")]).totalValue == 3)
            #expect(try metrics.expectGauge("tidings_endpoint_disabled", [("channel", "sms")]).lastValue == 1)

            let listed = try await ChildProcess.tidings(["endpoints"], environment: opened.environment, logs: directory)
            #expect(listed.stdout.contains("sms\thttp://127.0.0.1:\(server.port)/status/410\tdisabled since"), "\(listed.stdout)\(listed.stderr)")
            let enabled = try await ChildProcess.tidings(["endpoints", "enable", "sms"], environment: opened.environment, logs: directory)
            #expect(enabled.stdout.contains("enabled the sms endpoint"))
            #expect(try await opened.reads.disabledEndpoints().isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRateLimitSpacesSendsOnTheClock(_ backend: TestBackend) async throws {
        let directory = try Paths.temporaryDirectory("rate")
        let (runtime, env) = try await runtime(directory, ["SMS_RATE_LIMIT": "2", "SMS_RATE_BURST": "2"])
        try await backend.with(env, runtime: runtime, events: complaints(7), now: start) { opened in
            let clock = ManualClock(start)
            let dispatcher = Dispatcher(queue: opened.outbox, catalog: runtime.catalog, channels: try runtime.channelSetups(),
                                        logger: Logger(label: "rate"), clock: clock.now)
            var sentAt: [Int] = []
            for _ in 0..<4 {
                sentAt.append(await dispatcher.drain())
                clock.advance(1)
            }
            #expect(sentAt == [2, 2, 2, 1])
            #expect(try await opened.reads.messages(state: .sent, customerID: nil, subjectID: nil, id: nil, after: nil, limit: 100).count == 7)
        }
    }
}
