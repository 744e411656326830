import Foundation
import Testing
import TidingsCore
import TidingsDelivery

/// The transports on their own against real servers on loopback: what each answer is
/// classified as, and that connections are reused.
@Suite("Transports against real servers")
struct TransportIntegrationTests {
    func message(_ n: Int, channel: Channel = .email, to recipient: String = "ann@example.com") -> OutgoingMessage {
        OutgoingMessage(key: "test.\(n)", channel: channel, workflow: "test", category: "order_status", customerID: "c-1",
                        subjectID: "o-\(n)", recipient: recipient, recipientName: "Ann Example",
                        content: RenderedMessage(subject: "Message \(n)", text: "Body \(n)", html: "<p>Body \(n)</p>"), date: Date())
    }

    @Test func smtpReusesConnectionsAndReadsReplyCodes() async throws {
        let directory = try Paths.temporaryDirectory("smtp")
        let server = try await LoopbackServer.smtp(logs: directory, rejecting: ["nobody@example.com"])
        let transport = try SMTPTransport(settings: SMTPTransport.Settings(
            url: "smtp://127.0.0.1:\(server.port)", from: MIMEMessage.Mailbox(name: "Shop", address: "shop@shop.example"), tls: .off,
            username: nil, password: nil, concurrency: 4, timeoutSeconds: 10))
        let outcomes = await withTaskGroup(of: DeliveryOutcome.self) { group in
            for n in 0..<40 { group.addTask { await transport.send(message(n)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0.label == "sent" }, "\(outcomes.filter { $0.label != "sent" })")
        let received = try server.received()
        #expect(received.count == 40)
        let sessions = Set(received.compactMap { $0["peer"]?.textValue ?? $0["peer"]?.arrayValue?.last?.textValue })
        #expect((1...4).contains(sessions.count), "40 messages should share at most 4 SMTP sessions, used \(sessions.count)")

        let refused = await transport.send(message(99, to: "nobody@example.com"))
        #expect(refused.label == "permanent")
        #expect(refused.detail.hasPrefix("SMTP 550"))
        try await server.stop()
        let down = await transport.send(message(100))
        #expect(down.label == "transient")
        transport.close()
    }

    /// A UTF-8 address goes with SMTPUTF8 to a server that offers it, and never raw to one that
    /// does not: that message fails on email (and falls back) with the reason; ASCII mail
    /// still flows through the same server.
    @Test(arguments: [true, false])
    func utf8AddressesNeedAServerThatOffersSMTPUTF8(offered: Bool) async throws {
        let directory = try Paths.temporaryDirectory("smtputf8")
        let server = try await LoopbackServer.smtp(logs: directory, smtputf8: offered)
        let transport = try SMTPTransport(settings: SMTPTransport.Settings(
            url: "smtp://127.0.0.1:\(server.port)", from: MIMEMessage.Mailbox(name: "Shop", address: "shop@shop.example"), tls: .off,
            username: nil, password: nil, concurrency: 2, timeoutSeconds: 10))
        let outcome = await transport.send(message(1, to: "zoë@example.com"))
        #expect(await transport.send(message(2)).label == "sent")
        try await server.stop()
        transport.close()
        let received = try server.received()
        if offered {
            #expect(outcome.label == "sent", "\(outcome)")
            let utf8 = try #require(received.first { $0["rcpt_tos"]?.arrayValue?.first?.stringValue == "zoë@example.com" })
            #expect(utf8["mail_options"]?.arrayValue?.contains("SMTPUTF8") == true)
        } else {
            #expect(outcome.label == "permanent")
            #expect(outcome.detail.contains("does not offer SMTPUTF8"))
            #expect(received.count == 1, "only the ASCII message reached the server")
        }
    }

    /// An address no message can be built for fails for good at once, before the relay is
    /// asked whether it takes UTF-8 addresses: here nothing listens, and asking would make it a
    /// failure for now, retried for days.
    @Test func anAddressThatCannotBeBuiltFailsBeforeTheRelayIsAsked() async throws {
        let transport = try SMTPTransport(settings: SMTPTransport.Settings(
            url: "smtp://127.0.0.1:1", from: MIMEMessage.Mailbox(name: "Shop", address: "shop@shop.example"), tls: .off,
            username: nil, password: nil, concurrency: 1, timeoutSeconds: 5))
        defer { transport.close() }
        let tooLong = String(repeating: "ë", count: 40) + "@example.com"
        #expect(SMTPCapabilities.needsSMTPUTF8(tooLong))
        let outcome = await transport.send(message(1, to: tooLong))
        #expect(outcome.label == "permanent", "\(outcome)")
        #expect(outcome.detail.contains("invalid address"))
    }

    @Test func webhookOutcomesFollowTheStatus() async throws {
        let directory = try Paths.temporaryDirectory("webhook")
        let server = try await LoopbackServer.http(logs: directory)
        func send(_ path: String) async throws -> DeliveryOutcome {
            let transport = try WebhookTransport(settings: WebhookTransport.Settings(
                preset: .generic, url: "http://127.0.0.1:\(server.port)\(path)", timeoutSeconds: 2), label: "test")
            defer { transport.close() }
            return await transport.send(message(1, channel: .sms, to: "+447700900123"))
        }
        #expect(try await send("/hook").label == "sent")
        #expect(try await send("/status/503?retry_after=7") == .transient(reason: "HTTP 503", retryAfter: 7))
        #expect(try await send("/status/429").label == "transient")
        let redirect = try await send("/status/302")
        #expect(redirect.label == "permanent")
        #expect(redirect.detail.contains("not followed"))
        #expect(try await send("/status/404").label == "permanent")
        #expect(try await send("/hook?delay=5").label == "transient")  // timed out after 2 s
        let received = try server.received()
        let followed = received.filter { $0["path"]?.stringValue == "/redirected" }
        #expect(followed.isEmpty)
        #expect(received.first?["headers"]?["webhook-id"] == "test.1")
        try await server.stop()
        #expect(try await send("/hook").label == "transient")
    }

    /// Three posts handed to `worker` at once, each answered after `delay` seconds.
    func threePosts(_ worker: CurlWorker, port: Int, delay: Double, timeout: Int, mayGiveBack: Bool = false) async -> [CurlResponse] {
        let request = CurlRequest(url: "http://127.0.0.1:\(port)/hook?delay=\(delay)", payload: .http(method: "POST", headers: [], body: Array("{}".utf8)),
                                  connectTimeoutMilliseconds: timeout, timeoutMilliseconds: timeout)
        return await withTaskGroup(of: CurlResponse.self) { group in
            for _ in 0..<3 { group.addTask { await worker.perform(request, mayGiveBack: mayGiveBack) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// A worker starts requests beyond its connections as they free (`Transport.holds`), and a
    /// request's timeout counts from its start, not from its handover: three one-second
    /// requests through one connection, with a 2.5 s timeout, all go out (waiting in libcurl's
    /// own queue, the third would time out after 2.5 s without being sent).
    @Test func requestsHeldForAConnectionTimeOutOnlyOnceStarted() async throws {
        let directory = try Paths.temporaryDirectory("curl-held")
        let server = try await LoopbackServer.http(logs: directory)
        let worker = try CurlWorker(label: "test", maxConnectionsPerHost: 1, holdLimit: .seconds(60))
        let responses = await threePosts(worker, port: server.port, delay: 1, timeout: 2_500)
        #expect(responses.map(\.responseCode) == [204, 204, 204], "\(responses.map(\.errorMessage))")
        #expect(try server.received().count == 3)
        worker.close()
        try await server.stop()
    }

    /// A pool shares its connections out as evenly as can be, and hands each request to the
    /// worker with the fewest unanswered: three slow requests go to three workers, not one.
    @Test func aPoolSharesConnectionsOutAndStartsEachRequestOnTheLeastBusyWorker() async throws {
        let pool = try CurlWorkerPool(label: "test", connections: 5, perWorker: 2)
        #expect(pool.workers.map(\.connections) == [2, 2, 1])
        #expect(try CurlWorkerPool(label: "test", connections: 16, perWorker: 4).workers.map(\.connections) == [4, 4, 4, 4])
        #expect(try CurlWorkerPool(label: "test", connections: 1, perWorker: 4).workers.map(\.connections) == [1])

        let directory = try Paths.temporaryDirectory("curl-pool")
        let server = try await LoopbackServer.http(logs: directory)
        let request = CurlRequest(url: "http://127.0.0.1:\(server.port)/hook?delay=1", payload: .http(method: "POST", headers: [], body: Array("{}".utf8)),
                                  connectTimeoutMilliseconds: 10_000, timeoutMilliseconds: 10_000)
        let answers = AsyncStream<CurlResponse>.makeStream()
        for _ in 0..<3 { pool.start(request) { answers.continuation.yield($0) } }
        #expect(pool.workers.map(\.load) == [1, 1, 1])
        var codes: [Int] = []
        for await response in answers.stream {
            codes.append(response.responseCode)
            if codes.count == 3 { break }
        }
        #expect(codes == [204, 204, 204])
        #expect(pool.workers.map(\.load) == [0, 0, 0])
        pool.close()
        try await server.stop()
    }

    /// What a worker holds goes back unsent when it waits longer than the hold limit (if its
    /// caller takes it back), or when the dispatcher stops (`giveBack`): never sent, so the
    /// claim is released as it was.
    @Test func heldRequestsGoBackUnsentAfterTheHoldLimitOrWhenAsked() async throws {
        let directory = try Paths.temporaryDirectory("curl-give-back")
        let server = try await LoopbackServer.http(logs: directory)
        let quick = try CurlWorker(label: "test", maxConnectionsPerHost: 1, holdLimit: .milliseconds(300))
        let stale = await threePosts(quick, port: server.port, delay: 1.5, timeout: 10_000, mayGiveBack: true)
        #expect(stale.filter(\.givenBack).count == 2)
        #expect(stale.filter { $0.responseCode == 204 }.count == 1)
        // A caller that cannot take a request back (`Transport.send`) waits as long as it takes.
        let kept = await threePosts(quick, port: server.port, delay: 0.5, timeout: 10_000)
        #expect(kept.map(\.responseCode) == [204, 204, 204], "\(kept.map(\.errorMessage))")
        quick.close()

        let patient = try CurlWorker(label: "test", maxConnectionsPerHost: 1, holdLimit: .seconds(60))
        async let asked = threePosts(patient, port: server.port, delay: 1, timeout: 10_000)
        let deadline = ContinuousClock.now + .seconds(30)
        while patient.held < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        patient.giveBack()
        let responses = await asked
        #expect(responses.filter(\.givenBack).count == 2)
        #expect(responses.filter { $0.responseCode == 204 }.count == 1)
        #expect(try server.received().count == 5)
        patient.close()
        try await server.stop()
    }
}
