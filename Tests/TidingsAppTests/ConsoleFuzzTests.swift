import Foundation
import Testing
import TidingsCore

/// Hostile input through every console route of the real daemon: ids, queries, forms and
/// cookies of hostile text, broken escapes and numbers past their range. No answer may be a
/// 5xx, none may carry the input unescaped, and the daemon keeps answering. Seeded
/// (`FUZZ_SEED`), so a failure can be replayed.
@Suite("Console under hostile input", .serialized)
struct ConsoleFuzzTests {
    static let brokenEscapes = ["%", "%z", "%zz", "%C3%28", "%00", "%FF%FE", "+", "%2B", "%25", "&", "=", "a=b&c", "%E2%80%AE"]
    static let numbers = ["-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999", "1e9", "0x10", " 5", "NaN"]

    @Test func noRouteFailsOrEchoesWhatItIsSent() async throws {
        let seed = ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init) ?? 0xC0_5013
        var fuzz = EventFuzzer(seed: seed, seeds: [])
        let directory = try Paths.temporaryDirectory("console-fuzz")
        let daemon = try await HTTPAPITests.start(directory)
        let base = daemon.base
        let events = [
            HTTPAPITests.event("c-9", "customer.registered", "c-9", #"{"name":"Ann <script>alert(1)</script>","email":"ann9@example.com"}"#),
            HTTPAPITests.event("o-9", "order.placed", "o-9",
                               #"{"customer_id":"c-9","total":9.5,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":9.5}]}"#),
            HTTPAPITests.event("t-9", "ticket.opened", "t-9", #"{"customer_id":"c-9","kind":"complaint","summary":"<script>alert(1)</script>"}"#),
        ]
        let posted = try await HTTPAPITests.call("POST", "\(base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                 body: Data(events.joined(separator: "\n").utf8))
        #expect(posted.status == 201, "\(posted.text)")
        _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
        var cookies: [String] = []
        for token in [HTTPAPITests.reader, HTTPAPITests.admin] {
            let login = try await ConsoleTests.call("POST", "\(base)/console/login", form: "token=\(token)")
            cookies.append(try #require(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init)))
        }

        let port = try #require(base.split(separator: ":").last.flatMap { Int($0) })
        var statuses: [Int: Int] = [:]
        // Every route with every awkward number and broken escape in its first place, then
        // 400 random requests.
        let fixed = (0..<Self.routes).flatMap { route in (Self.numbers + Self.brokenEscapes).map { (route, $0) } }
        for step in 0..<(fixed.count + 400) {
            let random = step >= fixed.count
            let route = random ? fuzz.below(Self.routes) : fixed[step].0
            let a = random ? Self.part(&fuzz) : fixed[step].1, b = Self.part(&fuzz), c = Self.part(&fuzz)
            let (method, path, form) = Self.request(route, a, b, c, message: fuzz.pick(["1", "2", "3"]))
            // Mostly a real login; sometimes a forged or broken cookie.
            var cookie = fuzz.pick(cookies)
            if fuzz.chance(15) { cookie = "tidings_console=\(Self.part(&fuzz))" }
            // Sent as it is: broken escapes reach the server unrepaired.
            var headers = ["Cookie": cookie]
            if fuzz.chance(80) { headers["Origin"] = base }
            let reply = try await RawHTTP.send(port: port, method, path, headers: headers, form: form)
            statuses[reply.status, default: 0] += 1
            #expect(reply.status < 500, "\(method) \(path): \(reply.status) \(reply.body.prefix(300))")
            #expect(!reply.body.contains("<script>"), "\(method) \(path) echoed a script")
            if reply.headers["content-type"]?.hasPrefix("text/html") == true {
                #expect(reply.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(method) \(path) without its policy")
            }
        }
        // Not all refused: most requests reach a page (or its login redirect) and are answered.
        #expect((statuses[200] ?? 0) + (statuses[303] ?? 0) > 100, "\(statuses)")
        let health = try await HTTPAPITests.call("GET", "\(base)/healthz")
        #expect(health.status == 200, "the daemon still answers")
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }

    static let routes = 14

    /// A console route with `a`, `b` and `c` in its places.
    static func request(_ route: Int, _ a: String, _ b: String, _ c: String, message: String) -> (String, String, String?) {
        switch route {
        case 0: ("GET", "/console/search?q=\(a)", nil)
        case 1: ("GET", "/console/customers/\(a)", nil)
        case 2: ("GET", "/console/customers/c-9?before=\(a)", nil)
        case 3: ("GET", "/console/orders/\(b)?before=\(a)", nil)
        case 4: ("GET", "/console/tickets/\(a)?before=\(b)", nil)
        case 5: ("GET", "/console/messages/\(a)/email", nil)
        case 6: ("GET", "/console/preview?workflow=\(b)&locale=\(c)&message=\(a)", nil)
        case 7: ("GET", "/console/preview/email?workflow=\(b)&locale=\(c)&message=\(a)", nil)
        case 8: ("GET", "/console/promises?hours=\(a)&days=\(b)", nil)
        case 9: ("GET", "/console/messages/\(a)/retry", nil)
        case 10: ("POST", "/console/messages/\(a)/retry", nil)
        case 11: ("POST", "/console/endpoints/\(a)/enable", nil)
        case 12: ("POST", "/console/login", "token=\(a)&\(b)")
        default: ("GET", "/console/preview?message=\(message)&workflow=\(a)", nil)
        }
    }

    /// One piece of a path or query: hostile text percent-encoded, a broken escape, a number
    /// past its range, or an id that exists.
    static func part(_ fuzz: inout EventFuzzer) -> String {
        switch fuzz.below(5) {
        case 0: FormEncoding.percentEncode(fuzz.text())
        case 1: fuzz.pick(brokenEscapes)
        case 2: fuzz.pick(numbers)
        case 3: fuzz.pick(["c-9", "o-9", "t-9", "T-9", "1", "2", "sms", "email", "complaint_acknowledgement", "de", "en"])
        default: FormEncoding.percentEncode(fuzz.text()) + fuzz.pick(brokenEscapes)
        }
    }
}
