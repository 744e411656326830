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
    static let numbers = ["-1", "0", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e9", "0x10", " 5", "NaN"]

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

        var asked = 0
        for _ in 0..<400 {
            let a = Self.part(&fuzz), b = Self.part(&fuzz), c = Self.part(&fuzz)
            let (method, path, form): (String, String, String?) = switch fuzz.below(14) {
            case 0: ("GET", "/console/search?q=\(a)", nil)
            case 1: ("GET", "/console/customers/\(a)", nil)
            case 2: ("GET", "/console/customers/c-9?before=\(a)", nil)
            case 3: ("GET", "/console/orders/\(a)?before=\(b)", nil)
            case 4: ("GET", "/console/tickets/\(a)", nil)
            case 5: ("GET", "/console/messages/\(a)/email", nil)
            case 6: ("GET", "/console/preview?workflow=\(a)&locale=\(b)&message=\(c)", nil)
            case 7: ("GET", "/console/preview/email?workflow=\(a)&locale=\(b)&message=\(c)", nil)
            case 8: ("GET", "/console/promises?hours=\(a)&days=\(b)", nil)
            case 9: ("GET", "/console/messages/\(a)/retry", nil)
            case 10: ("POST", "/console/messages/\(a)/retry", nil)
            case 11: ("POST", "/console/endpoints/\(a)/enable", nil)
            case 12: ("POST", "/console/login", "token=\(a)&\(b)")
            default: ("GET", "/console/preview?message=\(fuzz.pick(["1", "2", "3"]))&workflow=\(a)", nil)
            }
            // Mostly a real login; sometimes a forged or broken cookie.
            var cookie = fuzz.pick(cookies)
            if fuzz.chance(15) { cookie = "tidings_console=\(Self.part(&fuzz))" }
            guard let url = URL(string: base + path) else { continue }
            asked += 1
            let reply = try await ConsoleTests.call(method, url.absoluteString, cookie: cookie, form: form, origin: fuzz.chance(80) ? base : nil)
            #expect(reply.status < 500, "\(method) \(path): \(reply.status) \(reply.text.prefix(300))")
            #expect(!reply.text.contains("<script>"), "\(method) \(path) echoed a script")
            if reply.headers["content-type"]?.hasPrefix("text/html") == true {
                #expect(reply.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(method) \(path) without its policy")
            }
        }
        #expect(asked > 300, "most generated URLs are valid: \(asked)")
        let health = try await HTTPAPITests.call("GET", "\(base)/healthz")
        #expect(health.status == 200, "the daemon still answers")
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
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
