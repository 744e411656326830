import Foundation
import Logging
import MetricsTestKit
import Testing
import TidingsApp
import TidingsCore
import TidingsDelivery
import TidingsStore

/// The mail server is down for an hour and then comes back, on both backends. Time is injected:
/// the test moves the clock and lets the dispatcher send what is due, so an hour takes a second.
@Suite("An SMTP outage, on an injected clock")
struct OutageRecoveryTests {
    static let count = 20

    func events() -> [CloudEvent] {
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        return (0..<Self.count).flatMap { n -> [CloudEvent] in
            [CloudEvent(id: "c-\(n)", source: "urn:outage", type: "customer.registered", subject: "c-\(n)", time: t0,
                        data: ["name": .string("Customer \(n)"), "email": .string("c\(n)@example.com")]),
             CloudEvent(id: "t-\(n)", source: "urn:outage", type: "ticket.opened", subject: "t-\(n)", time: t0,
                        data: ["customer_id": .string("c-\(n)"), "kind": "complaint", "summary": "Late"])]
        }
    }

    @Test(arguments: TestBackend.allCases)
    func everyMessageIsDeliveredAfterTheServerReturnsWithRetriesOnTheSchedule(_ backend: TestBackend) async throws {
        let directory = try Paths.temporaryDirectory("outage")
        // Find a free port, then let it go: nothing listens there until the server "returns".
        let probe = try await LoopbackServer.smtp(logs: directory)
        let port = probe.port
        try await probe.stop()

        let env = Paths.environment(in: directory).merging([
            "DATABASE_SYNCHRONOUS": "normal", "EMAIL_TRANSPORT": "smtp", "SMTP_URL": "smtp://127.0.0.1:\(port)", "SMTP_STARTTLS": "off",
            "EMAIL_CONCURRENCY": "4",
            "EMAIL_CIRCUIT_FAILURES": "3", "EMAIL_CIRCUIT_COOL_DOWN": "30s", "EMAIL_CIRCUIT_MAX_COOL_DOWN": "10m",
        ]) { $1 }
        let runtime = try await Runtime.load(configPath: Paths.root.appendingPathComponent("config/tidings.yaml").path, environment: env)
        let policy = try #require(runtime.config.channels[.email]?.retry)
        #expect(policy == RetryPolicy.email)
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        try await backend.with(env, runtime: runtime, events: events(), now: start) { opened in
            let clock = ManualClock(start)
            let metrics = TestMetrics()
            let dispatcher = Dispatcher(queue: opened.outbox, catalog: runtime.catalog, channels: try runtime.channelSetups(),
                                        logger: Logger(label: "outage"), metrics: metrics, clock: clock.now)

            let outage: TimeInterval = 3_600
            var server: LoopbackServer?
            while clock.now() < start.addingTimeInterval(4 * 3_600) {
                if server == nil, clock.now() >= start.addingTimeInterval(outage) {
                    server = try await LoopbackServer.smtp(logs: directory, port: port)
                }
                await dispatcher.drain()
                clock.advance(30)
            }
            let back = try #require(server)
            let emails = try back.received()
            try await back.stop()

            // None lost: every message was sent, exactly once, after the server came back.
            let messages = try await opened.reads.messages(state: nil, customerID: nil, subjectID: nil, id: nil, after: nil, limit: 1_000)
            #expect(messages.count == Self.count)
            #expect(messages.allSatisfy { $0.state == .sent }, "\(messages.filter { $0.state != .sent }.map { "\($0.state) \($0.lastError ?? "")" })")
            #expect(emails.count == Self.count)
            let ids = Set(emails.compactMap { ($0["data"]?.stringValue ?? "").components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID:") } })
            #expect(ids.count == Self.count)

            // Every retry of a message waited at least its scheduled delay (less the 20% jitter).
            var failures = 0
            for message in messages {
                let attempts = try await opened.reads.attempts(messageID: message.id)
                #expect(attempts.last?.outcome == "sent")
                for attempt in attempts.dropLast() {
                    #expect(attempt.outcome == "transient")
                    #expect(attempt.at < start.addingTimeInterval(outage))
                    failures += 1
                }
                for (earlier, later) in zip(attempts, attempts.dropFirst()) {
                    let gap = later.at.timeIntervalSince(earlier.at)
                    let scheduled = try #require(policy.delay(afterAttempts: earlier.attempt))
                    #expect(gap >= scheduled * 0.8, "attempt \(later.attempt) came \(gap) s after the last, before its \(scheduled) s")
                }
            }
            // The circuit breaker held the queue while the server was down: the first few messages
            // and one probe at a time failed, not every message on its own schedule.
            #expect(failures > 0)
            #expect(failures < Self.count, "\(failures) failed attempts during the outage")

            // The same story in the metrics.
            #expect(try metrics.expectCounter("tidings_delivery_attempts_total", [("channel", "email"), ("outcome", "transient")]).totalValue
                == Int64(failures))
            #expect(try metrics.expectCounter("tidings_messages_sent_total", [("channel", "email")]).totalValue == Int64(Self.count))
            #expect(try metrics.expectCounter("tidings_message_retries_total", [("channel", "email"), ("outcome", "transient")]).totalValue
                == Int64(failures))
            #expect(try metrics.expectGauge("tidings_channel_paused", [("channel", "email")]).lastValue == 0)
        }
    }
}
