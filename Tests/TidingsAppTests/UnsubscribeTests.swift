import Foundation
import Testing
import TidingsCore
import TidingsStore

/// RFC 8058 one-click unsubscribe, through the daemon: a follow-up email carries the link, a
/// GET only shows a page, the client's POST records the opt-out at once, the next follow-up is
/// skipped for it, and a link Tidings did not sign is refused.
@Suite("One-click unsubscribe", .serialized)
struct UnsubscribeTests {
    @Test func aFollowUpsLinkOptsTheCustomerOutWithOnePost() async throws {
        let directory = try Paths.temporaryDirectory("unsubscribe")
        let daemon = try await HTTPAPITests.start(directory, extra: [
            "UNSUBSCRIBE_URL": "http://127.0.0.1/v1/unsubscribe", "UNSUBSCRIBE_SECRET": "unsubscribe-test-secret-0123",
        ])
        let events = "\(daemon.base)/v1/events"
        func post(_ lines: [String]) async throws {
            let reply = try await HTTPAPITests.call("POST", events, token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                    body: Data(lines.joined(separator: "\n").utf8))
            #expect(reply.status == 201, "\(reply.text)")
            let idle = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
            #expect(idle.status == 0, "\(idle.stdout)")
        }
        try await post([
            HTTPAPITests.event("u-1", "customer.registered", "c-u", #"{"name":"Una","email":"una@example.com","preferences":{"channels":["email"]}}"#),
            HTTPAPITests.event("u-2", "ticket.opened", "t-u1", #"{"customer_id":"c-u","kind":"query","summary":"Where is it?"}"#),
            HTTPAPITests.event("u-3", "ticket.resolved", "t-u1", #"{"by":"Sam"}"#),
        ])
        let store = try Store(path: try #require(daemon.env["DATABASE_PATH"]))
        let resolved = try #require(try store.messages(limit: 100).first { $0.workflow == "ticket_resolved" && $0.state == .sent })
        let spooled = directory.appendingPathComponent("spool/email/\(resolved.key).eml")
        let mail = try String(contentsOf: spooled, encoding: .utf8)
        #expect(mail.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        let header = try #require(mail.components(separatedBy: "\r\n").first { $0.hasPrefix("List-Unsubscribe: <") })
        let link = try #require(URLComponents(string: String(header.dropFirst("List-Unsubscribe: <".count).dropLast())))
        let url = "\(daemon.base)/v1/unsubscribe?\(try #require(link.percentEncodedQuery))"
        let acknowledgement = try #require(try store.messages(limit: 100).first { $0.workflow == "query_acknowledgement" })
        let ack = try String(contentsOf: directory.appendingPathComponent("spool/email/\(acknowledgement.key).eml"), encoding: .utf8)
        #expect(!ack.contains("List-Unsubscribe"), "an acknowledgement never carries it")

        // A GET (a link scanner, or the customer's browser) shows a button and changes nothing.
        var reply = try await HTTPAPITests.call("GET", url)
        #expect(reply.status == 200 && reply.text.contains("<form method=\"post\">"), "\(reply.text)")
        #expect(try store.customer(id: "c-u")?.preferences.optOut.isEmpty == true)
        // The mail client's one-click POST.
        reply = try await HTTPAPITests.call("POST", url, type: "application/x-www-form-urlencoded", body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(reply.status == 200 && reply.text.contains("you will no longer receive"), "\(reply.text)")
        let head = try await store.head()
        try await post([
            HTTPAPITests.event("u-4", "ticket.opened", "t-u2", #"{"customer_id":"c-u","kind":"query","summary":"And now?"}"#),
            HTTPAPITests.event("u-5", "ticket.resolved", "t-u2", #"{"by":"Sam"}"#),
        ])
        #expect(try store.customer(id: "c-u")?.preferences.optOut == ["follow_up"])
        #expect(try store.events(after: head - 1, limit: 1).first?.event.type == "customer.unsubscribed")
        // Clicked again: nothing more is written.
        let before = try await store.head()
        reply = try await HTTPAPITests.call("POST", url, type: "application/x-www-form-urlencoded", body: Data("List-Unsubscribe=One-Click".utf8))
        let after = try await store.head()
        #expect(reply.status == 200 && after == before)
        let second = try store.messages(limit: 100).filter { $0.workflow == "ticket_resolved" && $0.subjectID == "t-u2" }
        #expect(second.count == 1 && second.allSatisfy { $0.state == .skipped }, "\(second.map { "\($0.state) \($0.lastError ?? "")" })")

        // Links Tidings did not make, or cut short.
        let forged = url.replacingOccurrences(of: "c=c-u", with: "c=c-other")
        #expect(try await HTTPAPITests.call("POST", forged).status == 403)
        #expect(try await HTTPAPITests.call("GET", "\(daemon.base)/v1/unsubscribe?c=c-u").status == 400)
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }
}
