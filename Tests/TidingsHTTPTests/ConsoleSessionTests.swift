import Foundation
import Testing
@testable import TidingsCore
@testable import TidingsHTTP

/// Console logins are cookies the server signed: they must not be forged, outlive their day,
/// or outlive the token (or the scope) they were made from.
@Suite("Console sessions")
struct ConsoleSessionTests {
    let reader = APIToken(name: "site", scopes: [.read], token: "reader-token-0123456789")
    let admin = APIToken(name: "ops", scopes: [.admin], token: "admin-token-0123456789a")
    let ingest = APIToken(name: "shop", scopes: [.ingest], token: "ingest-token-0123456789")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func aSignedSessionReadsBackUntilItExpires() throws {
        let keys = ConsoleSession.Keys(tokens: [reader, admin, ingest])
        let session = try #require(keys.session(for: reader, now: now))
        let cookie = keys.cookieValue(session)
        #expect(keys.session(from: cookie, now: now.addingTimeInterval(3600)) == session)
        #expect(keys.session(from: cookie, now: now.addingTimeInterval(ConsoleSession.lifetime + 1)) == nil, "expired")
        #expect(try #require(keys.session(for: admin, now: now)).admin)
        #expect(keys.session(for: ingest, now: now) == nil, "an ingest token cannot log in")
    }

    @Test func aForgedOrForeignSessionIsRefused() throws {
        let keys = ConsoleSession.Keys(tokens: [reader, admin])
        let cookie = keys.cookieValue(try #require(keys.session(for: reader, now: now)))
        var parts = cookie.split(separator: ".").map(String.init)
        parts[2] = "admin"
        #expect(keys.session(from: parts.joined(separator: "."), now: now) == nil, "a read login made admin by hand")
        parts = cookie.split(separator: ".").map(String.init)
        parts[3] = String(Int64(now.timeIntervalSince1970) + 1_000_000)
        #expect(keys.session(from: parts.joined(separator: "."), now: now) == nil, "a longer life by hand")
        for garbage in ["", "v1", "v1....", "v1.x.read.1.y", String(repeating: ".", count: 9), cookie + "x"] {
            #expect(keys.session(from: garbage, now: now) == nil)
        }
        let other = ConsoleSession.Keys(tokens: [reader, admin, ingest])
        #expect(other.session(from: cookie, now: now) == nil, "another set of tokens signs with another key")
    }

    @Test func aSessionEndsWithItsTokenOrScope() throws {
        let session = try #require(ConsoleSession.Keys(tokens: [reader, admin]).session(for: admin, now: now))
        // The same names, the admin token's scope narrowed to read: the key changes with the
        // tokens, and even under one key an admin session needs an admin token.
        let narrowed = ConsoleSession.Keys(tokens: [reader, APIToken(name: "ops", scopes: [.read], token: "admin-token-0123456789a")])
        #expect(narrowed.session(from: narrowed.cookieValue(session), now: now) == nil)
        let without = ConsoleSession.Keys(tokens: [reader])
        #expect(without.session(from: without.cookieValue(session), now: now) == nil, "a removed token's session")
    }

    @Test func formsDecodeAsBrowsersSendThem() {
        #expect(FormEncoding.fields("token=a%2Bb+c&token=second&x".utf8) == ["token": "a+b c", "x": ""])
        #expect(FormEncoding.fields("".utf8) == [:])
        #expect(FormEncoding.fields("token=%zz%".utf8)["token"] == "", "a value that does not decode is empty, not half decoded")
    }

    @Test func theTimelineIsInTimeOrderEventsBeforeTheirMessages() throws {
        var customer = Customer(id: "c-1")
        customer.registeredAt = now
        var order = try #require(Reducers.order(nil, StoredEvent(position: 2, recordedAt: now.addingTimeInterval(60), event: CloudEvent(
            id: "o", source: "s", type: "order.placed", subject: "o-1", time: nil,
            data: ["customer_id": "c-1", "total": 5, "currency": "EUR", "items": [["sku": "A", "name": "Mug", "quantity": 1, "unit_price": 5]]])), promises: .standard))
        order.timeline.append(TimelineEntry(at: now.addingTimeInterval(120), type: "order.shipped", position: 3, note: nil))
        let message = MessageSummary(id: 1, key: "k", workflow: "order_confirmation", customerID: "c-1", subjectID: "o-1", channel: "email",
                                     recipient: "a@example.com", state: .sent, attempts: 1, createdAt: now.addingTimeInterval(60), sentAt: nil,
                                     lastError: nil)
        let timeline = Timeline(customer: customer, orders: [order], tickets: [],
                                page: Timeline.Page(messages: [message], from: nil, until: nil, earlier: nil, later: false))
        let labels = timeline.entries.map { entry -> String in
            switch entry.item {
            case .event(let type, _, _): type
            case .message(let summary): summary.workflow
            }
        }
        #expect(labels == ["customer.registered", "order.placed", "order_confirmation", "order.shipped"])

        // A page of a longer history shows the events of its own stretch of time: from its
        // oldest message (older events are on the earlier page) to the next page's first.
        let page = Timeline.Page(messages: [message], from: message.createdAt, until: now.addingTimeInterval(100), earlier: 1, later: true)
        let paged = Timeline(customer: customer, orders: [order], tickets: [], page: page).entries.map { entry -> String in
            switch entry.item {
            case .event(let type, _, _): type
            case .message(let summary): summary.workflow
            }
        }
        #expect(paged == ["order.placed", "order_confirmation"])
        let paging = ConsolePage.Paging(page: page, path: "/console/customers/", id: "c 1")
        #expect(paging.earlier == "/console/customers/c%201?before=1" && paging.latest == "/console/customers/c%201")
        let html = ConsolePage.timelineSection(Timeline(customer: nil, orders: [], tickets: [], page: page), messages: [:], paging: paging)
        #expect(html.contains(#"<a href="/console/customers/c%201?before=1">Earlier messages</a>"#))
        let first = ConsolePage.Paging(page: Timeline.Page(messages: [message], from: nil, until: nil, earlier: nil, later: false), path: "/x/", id: "c")
        #expect(first.earlier == nil && first.latest == nil)
    }

    /// `http.public_origin` and `Origin` headers compare in the form browsers send.
    @Test func originsCompareAsBrowsersSendThem() {
        #expect(HTTPSettings.origin("https://Tidings.Example:443") == "https://tidings.example")
        #expect(HTTPSettings.origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080")
        #expect(HTTPSettings.origin("http://[::1]:80/") == "http://[::1]")
        for bad in ["https://tidings.example/console", "ftp://x", "tidings.example", "https://u:p@x", "https://x?a=1", "null", ""] {
            #expect(HTTPSettings.origin(bad) == nil, "\(bad)")
        }
    }
}
