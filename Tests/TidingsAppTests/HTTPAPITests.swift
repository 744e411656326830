import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TidingsApp
import TidingsCore
import TidingsHTTP
import TidingsStore

/// The real `tidings serve` over HTTP on loopback, through a real client (URLSession):
/// every endpoint and every error of the API.
@Suite("HTTP API against the daemon", .serialized)
struct HTTPAPITests {
    static let ingest = "ingest-token-0123456789"
    static let reader = "reader-token-0123456789"
    static let admin = "admin-token-0123456789a"

    /// A running daemon on a free port, with its base URL.
    struct Daemon {
        var child: ChildProcess
        var base: String
        var env: [String: String]
    }

    static func start(_ directory: URL, extra: [String: String] = [:]) async throws -> Daemon {
        let env = Paths.environment(in: directory).merging([
            "HTTP_LISTEN": "127.0.0.1:0", "HTTP_BODY_LIMIT": "65536",
            "HTTP_TOKENS": "shop ingest \(ingest); site read \(reader); ops admin \(admin)",
        ]) { $1 }.merging(extra) { $1 }
        let child = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve-http")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && child.process.isRunning {
            if let line = child.stderr.split(separator: "\n").first(where: { $0.contains("http listening") }),
               let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) {
                return Daemon(child: child, base: "http://\(address.dropFirst("address=".count))", env: env)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the daemon did not start listening: \(child.stderr)")
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func call(_ method: String, _ url: String, token: String? = nil, type: String? = nil, body: Data? = nil,
                     headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let type { request.setValue(type, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    static func event(_ id: String, _ type: String, _ subject: String, _ data: String) -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"urn:http-test","type":"\#(type)","subject":"\#(subject)","data":\#(data)}"#
    }

    static let customer = event("c-1", "customer.registered", "c-1", #"{"name":"Ann","email":"ann@example.com"}"#)
    static let customer2 = event("c-2", "customer.registered", "c-2", #"{"name":"Bo","email":"bo@example.com"}"#)
    static let order = event("o-1", "order.placed", "o-1",
                             #"{"customer_id":"c-1","total":9.5,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":9.5}]}"#)
    static let ticket = event("t-1", "ticket.opened", "t-1", #"{"customer_id":"c-1","kind":"complaint","summary":"Chipped mug"}"#)

    @Test func everyEndpointAndEveryError() async throws {
        let directory = try Paths.temporaryDirectory("http")
        let daemon = try await Self.start(directory)
        let base = daemon.base
        let events = "\(base)/v1/events"

        // Ingest, in each of the four modes; a repeat is 200 and stores nothing.
        var reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents+json", body: Data(Self.customer.utf8))
        #expect(reply.status == 201, "\(reply.text)")
        #expect(reply.json["positions"] == [1])
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents-batch+json",
                                    body: Data("[\(Self.order)]".utf8))
        #expect(reply.status == 201)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/x-ndjson", body: Data("\(Self.ticket)\n\(Self.order)\n".utf8))
        #expect(reply.status == 201)
        #expect(reply.json["already_stored"] == 1)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/json", body: Data(#"{"at":"2026-11-23T12:00:00Z"}"#.utf8),
                                    headers: ["ce-specversion": "1.0", "ce-id": "d-1", "ce-source": "urn:http-test", "ce-type": "order.delivered",
                                              "ce-subject": "o-1"])
        #expect(reply.status == 201, "\(reply.text)")
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents+json", body: Data(Self.customer.utf8))
        #expect(reply.status == 200)
        #expect(reply.json["appended"] == 0)

        // Errors, as problem+json.
        let bad = Self.event("o-2", "order.placed", "o-2", #"{"customer_id":"c-1","total":"lots","currency":"EUR","items":[{"sku":"A","name":"A","quantity":1,"unit_price":1}]}"#)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents-batch+json",
                                    body: Data("[\(Self.event("c-9", "customer.registered", "c-9", "{}")),\(bad)]".utf8))
        #expect(reply.status == 400)
        #expect(reply.headers["content-type"] == "application/problem+json")
        #expect(reply.json.value(atPath: "errors")?.arrayValue?.first?["event"] == 2)
        #expect(reply.json.value(atPath: "errors")?.arrayValue?.first?["field"] == "data.total")
        reply = try await Self.call("POST", events, type: "application/cloudevents+json", body: Data(Self.customer.utf8))
        #expect(reply.status == 401)
        #expect(reply.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        reply = try await Self.call("POST", events, token: "not-a-known-token-at-all", type: "application/cloudevents+json", body: Data(Self.customer.utf8))
        #expect(reply.status == 401)
        reply = try await Self.call("POST", events, token: Self.reader, type: "application/cloudevents+json", body: Data(Self.customer.utf8))
        #expect(reply.status == 403)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/x-ndjson",
                                    body: Data(String(repeating: Self.customer + "\n", count: 800).utf8))
        #expect(reply.status == 413)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "text/csv", body: Data("a,b".utf8))
        #expect(reply.status == 415)
        #expect(reply.json["status"] == 415)
        // The refused batch stored nothing.
        #expect(try await Store(path: daemon.env["DATABASE_PATH"]!).head() == 4)

        // Reads, once the pipeline and the dispatcher are done.
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
        #expect(idle.status == 0)
        reply = try await Self.call("GET", "\(base)/v1/orders/o-1", token: Self.reader)
        #expect(reply.status == 200)
        #expect(reply.json["status"] == "delivered")
        #expect(reply.json["items"]?.arrayValue?.count == 1)
        #expect(reply.json["timeline"]?.arrayValue?.count == 2)
        #expect(reply.json["messages"]?.arrayValue?.isEmpty == false)
        reply = try await Self.call("GET", "\(base)/v1/tickets/t-1", token: Self.admin)
        #expect(reply.status == 200)
        #expect(reply.json["reference"] == "T-1")
        #expect(reply.json["messages"]?.arrayValue?.first?["workflow"] == "complaint_acknowledgement")
        reply = try await Self.call("GET", "\(base)/v1/orders/o-404", token: Self.reader)
        #expect(reply.status == 404)
        reply = try await Self.call("GET", "\(base)/v1/customers/c-1/messages?limit=1", token: Self.reader)
        #expect(reply.json["messages"]?.arrayValue?.count == 1)
        let next = try #require(reply.json["next_after"]?.numberValue)
        reply = try await Self.call("GET", "\(base)/v1/customers/c-1/messages?limit=50&after=\(Int(next))", token: Self.reader)
        #expect(reply.json["messages"]?.arrayValue?.isEmpty == false)
        #expect(reply.json["next_after"] == .null)
        reply = try await Self.call("GET", "\(base)/v1/deliveries?state=sent", token: Self.reader)
        #expect(reply.json["deliveries"]?.arrayValue?.allSatisfy { $0["state"] == "sent" } == true)
        reply = try await Self.call("GET", "\(base)/v1/deliveries?state=lost", token: Self.reader)
        #expect(reply.status == 400)
        reply = try await Self.call("GET", "\(base)/v1/deliveries?limit=0", token: Self.reader)
        #expect(reply.status == 400)
        reply = try await Self.call("POST", "\(base)/v1/deliveries/1/retry", token: Self.reader)
        #expect(reply.status == 403)
        reply = try await Self.call("POST", "\(base)/v1/deliveries/1/retry", token: Self.admin)
        #expect(reply.status == 409)  // sent, not dead
        reply = try await Self.call("POST", "\(base)/v1/deliveries/999/retry", token: Self.admin)
        #expect(reply.status == 404)

        // Operations.
        reply = try await Self.call("GET", "\(base)/healthz")
        #expect(reply.json["status"] == "ok")
        reply = try await Self.call("GET", "\(base)/readyz")
        #expect(reply.status == 200)
        reply = try await Self.call("GET", "\(base)/metrics")
        #expect(reply.headers["content-type"]?.hasPrefix("text/plain") == true)
        for name in ["tidings_events_appended_total 4", "tidings_pipeline_lag 0", "tidings_outbox_messages{state=\"sent\"",
                     "tidings_delivery_attempts_total{", "tidings_event_to_sent_seconds_bucket{", "tidings_ticket_acknowledgement_seconds_count 1",
                     "tidings_rebuild_running 0"] {
            #expect(reply.text.contains(name), "\(name) is missing from /metrics")
        }
        reply = try await Self.call("GET", "\(base)/openapi.yaml")
        #expect(reply.text == OpenAPIDocument.yaml)
        reply = try await Self.call("GET", "\(base)/")
        #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(reply.text.contains("Promises at risk"))

        // An event a running `tidings append` has staged is not stored yet: 503, not 200.
        let path = try #require(daemon.env["DATABASE_PATH"])
        let store = try Store(path: path)
        let lock = try AppendLock(databasePath: path, id: "http-test")
        var staged = try store.beginAppend(id: "http-test", now: Date())
        try staged.append([try #require(CloudEvent(stored: JSONValue.parse(Data(Self.customer2.utf8))))], now: Date())
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents+json", body: Data(Self.customer2.utf8))
        #expect(reply.status == 503, "\(reply.text)")
        #expect(reply.headers["retry-after"] == "1")
        try staged.abandon()
        withExtendedLifetime(lock) {}
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents+json", body: Data(Self.customer2.utf8))
        #expect(reply.status == 201, "\(reply.text)")

        // A forgotten customer's events are refused, with the rest of their request: 422.
        _ = try store.forget(customerID: "c-1", eventID: "forget-http-test", now: Date())
        let later = Self.event("o-2", "order.placed", "o-2", #"{"customer_id":"c-1","total":1,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":1}]}"#)
        let other = Self.event("c-3", "customer.registered", "c-3", #"{"name":"Cy"}"#)
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/x-ndjson", body: Data("\(other)\n\(later)\n".utf8))
        #expect(reply.status == 422 && reply.json["detail"]?.stringValue?.contains("customer c-1, who was forgotten") == true, "\(reply.text)")
        reply = try await Self.call("POST", events, token: Self.ingest, type: "application/cloudevents+json", body: Data(other.utf8))
        #expect(reply.status == 201, "the refused request stored nothing: \(reply.text)")

        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }

    /// Sixteen clients posting at once: answered requests are durable, and requests that arrive
    /// together share a commit.
    static func burst(_ daemon: Daemon, round: Int, stopAt: Int? = nil) async throws -> [String] {
        let url = "\(daemon.base)/v1/events"
        return try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var ids: [String] = []
                    for n in 0..<20 {
                        let id = "r\(round)-w\(worker)-\(n)"
                        let body = Self.event(id, "customer.updated", "c-\(worker)", #"{"name":"W"}"#)
                        if worker == 0, n == stopAt { daemon.child.signal(SIGTERM) }
                        guard let reply = try? await Self.call("POST", url, token: Self.ingest, type: "application/cloudevents+json",
                                                               body: Data(body.utf8)) else { break }
                        if reply.status == 201 { ids.append(id) }
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test func concurrentRequestsShareCommitsAndSigtermLosesNoAcceptedEvent() async throws {
        let directory = try Paths.temporaryDirectory("http-load")
        let daemon = try await Self.start(directory)
        let first = try await Self.burst(daemon, round: 1)
        #expect(first.count == 320)
        let metrics = try await Self.call("GET", "\(daemon.base)/metrics").text
        func value(_ name: String) -> Double {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
        }
        let commits = value("tidings_group_commit_requests_count")
        let requests = value("tidings_group_commit_requests_sum")
        #expect(requests == 320)
        #expect(commits < requests, "\(requests) requests took \(commits) commits: none was shared")

        // SIGTERM while sixteen clients post: what was answered 201 is in the log.
        let second = try await Self.burst(daemon, round: 2, stopAt: 8)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
        let store = try Store(path: daemon.env["DATABASE_PATH"]!)
        let stored = Set(try store.events(after: 0, limit: 10_000).map(\.event.id))
        let lost = (first + second).filter { !stored.contains($0) }
        #expect(lost.isEmpty, "accepted but not stored: \(lost)")
        print("http: 320 requests in \(Int(commits)) commits; \(second.count) accepted around SIGTERM, none lost")
    }
}
