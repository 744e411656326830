import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TidingsCore

/// The support console of the real `tidings serve`, through a client that neither follows
/// redirects nor keeps cookies by itself, so each step is seen as a browser would take it.
@Suite("Console against the daemon", .serialized)
struct ConsoleTests {
    /// Tells URLSession not to follow redirects: the test reads each 303 itself.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()

    static func call(_ method: String, _ url: String, cookie: String? = nil, form: String? = nil, origin: String? = nil) async throws
        -> HTTPAPITests.Reply
    {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let origin { request.setValue(origin, forHTTPHeaderField: "Origin") }
        if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        if let form {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(form.utf8)
        }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return HTTPAPITests.Reply(status: http.statusCode, headers: fields, body: data)
    }

    @Test func aSupportAgentLogsInFindsACustomerAndReadsWhatTheyWereTold() async throws {
        let directory = try Paths.temporaryDirectory("console")
        let daemon = try await HTTPAPITests.start(directory)
        let base = daemon.base
        let events = [
            HTTPAPITests.event("c-9", "customer.registered", "c-9",
                               #"{"name":"Ann <script>alert(1)</script>","email":"Ann9@Example.com","phone":"+447700900999"}"#),
            HTTPAPITests.event("o-9", "order.placed", "o-9",
                               #"{"customer_id":"c-9","total":9.5,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":9.5}]}"#),
            HTTPAPITests.event("t-9", "ticket.opened", "t-9", #"{"customer_id":"c-9","kind":"complaint","summary":"Chipped mug","order_id":"o-9"}"#),
        ]
        let posted = try await HTTPAPITests.call("POST", "\(base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                 body: Data(events.joined(separator: "\n").utf8))
        #expect(posted.status == 201, "\(posted.text)")
        _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)

        // Nothing without a login: every page sends the browser to the login form.
        for path in ["/console", "/console/search?q=c-9", "/console/customers/c-9", "/console/messages/1/email"] {
            let reply = try await Self.call("GET", base + path)
            #expect(reply.status == 303 && reply.headers["location"] == "/console/login", "\(path): \(reply.status)")
            #expect(!reply.text.contains("Ann"))
        }
        let form = try await Self.call("GET", "\(base)/console/login")
        #expect(form.status == 200 && form.text.contains(#"<label for="token">API token</label>"#))
        #expect(form.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(form.headers["content-security-policy"]?.contains("script-src") == false, "no scripts allowed at all")

        // An ingest token cannot log in; neither can a wrong one.
        for token in [HTTPAPITests.ingest, "not-a-token-at-all-0000"] {
            let refused = try await Self.call("POST", "\(base)/console/login", form: "token=\(token)")
            #expect(refused.status == 401 && refused.headers["set-cookie"] == nil && refused.text.contains("role=\"alert\""))
        }
        let foreign = try await Self.call("POST", "\(base)/console/login", form: "token=\(HTTPAPITests.reader)", origin: "https://evil.example")
        #expect(foreign.status == 403 && foreign.headers["set-cookie"] == nil, "a login form posted from another site")
        let login = try await Self.call("POST", "\(base)/console/login", form: "token=\(HTTPAPITests.reader)", origin: base)
        #expect(login.status == 303 && login.headers["location"] == "/console/search")
        let setCookie = try #require(login.headers["set-cookie"])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"))
        let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))

        // Found by email (any case), phone, order id, ticket reference and message key.
        let byEmail = try await Self.call("GET", "\(base)/console/search?q=ann9%40example.COM", cookie: cookie)
        #expect(byEmail.status == 200 && byEmail.text.contains(#"href="/console/customers/c-9""#), "\(byEmail.text)")
        #expect(byEmail.text.contains("Ann &lt;script&gt;alert(1)&lt;/script&gt;") && !byEmail.text.contains("<script>"))
        for query in ["%2B447700900999", "o-9", "T-9"] {
            let found = try await Self.call("GET", "\(base)/console/search?q=\(query)", cookie: cookie)
            #expect(found.text.contains(#"href="/console/customers/c-9""#), "\(query)")
        }
        let nothing = try await Self.call("GET", "\(base)/console/search?q=%3Cnobody%3E", cookie: cookie)
        #expect(nothing.text.contains("Nothing matches <strong>&lt;nobody&gt;</strong>"))

        // The timeline: events, the complaint's promise, and the acknowledgement as sent.
        let page = try await Self.call("GET", "\(base)/console/customers/c-9", cookie: cookie)
        #expect(page.status == 200)
        let html = page.text
        #expect(html.contains("Tickets and promises") && html.contains("T-9"))
        #expect(html.contains("<h2>Still to come</h2>") && html.contains("deadline ticket.response_overdue about t-9"), "the complaint's deadline")
        #expect(html.contains("event <strong>ticket.opened</strong> about T-9"))
        #expect(html.contains("message <strong>complaint_acknowledgement</strong>"))
        #expect(html.contains("We&#39;re on it: your complaint T-9"), "the acknowledgement's subject as rendered")
        #expect(!html.contains("<script>"))
        #expect(page.headers["cache-control"] == "no-store" && page.headers["x-frame-options"] == "DENY")
        let id = try #require(html.firstMatch(of: /<iframe sandbox loading="lazy" src="\/console\/messages\/(\d+)\/email" title="The email complaint_acknowledgement/)?.1)
        let email = try await Self.call("GET", "\(base)/console/messages/\(id)/email", cookie: cookie)
        #expect(email.status == 200 && email.text.contains("T-9"))
        #expect(email.headers["content-security-policy"]?.contains("sandbox") == true)
        #expect(email.headers["x-frame-options"] == "SAMEORIGIN")
        // One order, one ticket (by its reference): the promise and their own timelines.
        let orderPage = try await Self.call("GET", "\(base)/console/orders/o-9", cookie: cookie)
        #expect(orderPage.status == 200 && orderPage.text.contains("<h1>Order o-9</h1>") && orderPage.text.contains("1 × Mug"))
        #expect(orderPage.text.contains("message <strong>order_confirmation</strong>") && !orderPage.text.contains("complaint_acknowledgement"))
        let ticketPage = try await Self.call("GET", "\(base)/console/tickets/T-9", cookie: cookie)
        #expect(ticketPage.status == 200 && ticketPage.text.contains("<h1>Ticket T-9</h1>") && ticketPage.text.contains("message <strong>complaint_acknowledgement</strong>"))
        #expect(ticketPage.text.contains(#"<a href="/console/orders/o-9">o-9</a>"#))
        #expect(try await Self.call("GET", "\(base)/console/orders/o-404", cookie: cookie).status == 404)
        let missing = try await Self.call("GET", "\(base)/console/customers/c-404", cookie: cookie)
        #expect(missing.status == 404)

        // The promises page: charts with their numbers beside them.
        let promises = try await Self.call("GET", "\(base)/console/promises", cookie: cookie)
        #expect(promises.status == 200 && promises.text.contains(#"<svg id="latency-chart""#) && promises.text.contains(#"id="latency-table""#))
        #expect(promises.text.contains(#"<svg id="promises-chart""#) && promises.text.contains("<td>complaint</td>"))
        let wider = try await Self.call("GET", "\(base)/console/promises?hours=9999&days=x", cookie: cookie)
        #expect(wider.text.contains("last 2160 hours") && wider.text.contains("last 14 days"), "windows are bounded, and nonsense is the default")
        // Operations: a read-only login sees, but cannot act; an admin can, on a dead message only.
        let operations = try await Self.call("GET", "\(base)/console/operations", cookie: cookie)
        #expect(operations.status == 200 && operations.text.contains("Outbox by state"))
        let confirm = try await Self.call("GET", "\(base)/console/messages/\(id)/retry", cookie: cookie)
        #expect(confirm.text.contains("This needs an admin login"))
        let refused = try await Self.call("POST", "\(base)/console/messages/\(id)/retry", cookie: cookie, origin: base)
        #expect(refused.status == 403 && refused.text.contains("read only"))
        let admin = try await Self.call("POST", "\(base)/console/login", form: "token=\(HTTPAPITests.admin)")
        let adminCookie = try #require(admin.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let notDead = try await Self.call("POST", "\(base)/console/messages/\(id)/retry", cookie: adminCookie, origin: base)
        #expect(notDead.status == 409 && notDead.text.contains("is not dead"))
        let crossSite = try await Self.call("POST", "\(base)/console/endpoints/sms/enable", cookie: adminCookie, origin: "https://evil.example")
        #expect(crossSite.status == 403)
        let enabled = try await Self.call("POST", "\(base)/console/endpoints/sms/enable", cookie: adminCookie)
        #expect(enabled.status == 200 && enabled.text.contains("0 sms endpoint(s) enabled"))
        // Both actions are recorded, with who asked; a refused one is not an action.
        let recorded = try await Self.call("GET", "\(base)/console/operations", cookie: cookie)
        #expect(recorded.text.contains("<td>ops (console)</td><td>endpoints.enable</td><td>sms</td><td>0</td>"), "\(recorded.text)")
        #expect(recorded.text.contains("<td>ops (console)</td><td>message.retry</td><td>\(id)</td><td>0</td>"))
        #expect(!recorded.text.contains("site (console)"), "the read-only login's refused retry did nothing")

        // The preview: every channel the template has, rendered from a sample, in any locale.
        let preview = try await Self.call("GET", "\(base)/console/preview?workflow=complaint_acknowledgement&locale=de", cookie: cookie)
        #expect(preview.status == 200 && preview.text.contains("<h3>email</h3>") && preview.text.contains("<h3>sms</h3>"))
        #expect(preview.text.contains(#"<option value="de" selected>de</option>"#))
        #expect(preview.text.contains(#"src="/console/preview/email?workflow=complaint_acknowledgement&amp;locale=de&amp;message=""#))
        let previewEmail = try await Self.call("GET", "\(base)/console/preview/email?workflow=complaint_acknowledgement&locale=de", cookie: cookie)
        #expect(previewEmail.status == 200 && previewEmail.headers["content-security-policy"]?.contains("sandbox") == true)
        let unknown = try await Self.call("GET", "\(base)/console/preview?workflow=%3Cnone%3E", cookie: cookie)
        #expect(unknown.status == 404 && !unknown.text.contains("<none>"))
        // ... or from a real message's data (by id or key), the timeline's link to it.
        #expect(html.contains(#"<a href="/console/preview?message=\#(id)">"#))
        let real = try await Self.call("GET", "\(base)/console/preview?message=\(id)&locale=de", cookie: cookie)
        #expect(real.status == 200 && real.text.contains("<h2>complaint_acknowledgement in de</h2>") && real.text.contains("Rendered from the data of message"))
        #expect(real.text.contains("T-9") && !real.text.contains("T-SAMPLE"), "the real ticket's reference, not the sample's")
        let key = try #require(html.firstMatch(of: /key <code>([^<]+)<\/code>/)?.1)
        let byKey = try await Self.call("GET", "\(base)/console/preview?message=\(FormEncoding.percentEncode(String(key)))", cookie: cookie)
        #expect(byKey.status == 200 && byKey.text.contains("Rendered from the data of message"), "\(key)")
        let realEmail = try await Self.call("GET", "\(base)/console/preview/email?workflow=complaint_acknowledgement&locale=en&message=\(id)", cookie: cookie)
        #expect(realEmail.status == 200 && realEmail.text.contains("T-9"))
        let mismatched = try await Self.call("GET", "\(base)/console/preview?message=\(id)&workflow=order_confirmation", cookie: cookie)
        #expect(mismatched.status == 422 && mismatched.text.contains("runs on order.placed events"))
        // The form sends its empty choices: the message's own workflow and locale.
        let ownWorkflow = try await Self.call("GET", "\(base)/console/preview?workflow=&locale=&message=\(id)", cookie: cookie)
        #expect(ownWorkflow.status == 200 && ownWorkflow.text.contains("<h2>complaint_acknowledgement in en</h2>"))
        #expect(ownWorkflow.text.contains(#"<option value="" selected>the message's own (with a message)</option>"#), "kept for the next message")
        let mismatchedEmail = try await Self.call("GET", "\(base)/console/preview/email?workflow=order_confirmation&locale=en&message=\(id)", cookie: cookie)
        #expect(mismatchedEmail.status == 404, "another event type's template is not rendered with this message's data")
        let noMessage = try await Self.call("GET", "\(base)/console/preview?message=999999", cookie: cookie)
        #expect(noMessage.status == 404 && noMessage.text.contains("There is no message 999999"))

        // A tampered cookie is no login; logging out ends it in the browser.
        let tampered = try await Self.call("GET", "\(base)/console/search", cookie: cookie.replacingOccurrences(of: ".read.", with: ".admin."))
        #expect(tampered.status == 303)
        let logout = try await Self.call("POST", "\(base)/console/logout", cookie: cookie)
        #expect(logout.status == 303 && logout.headers["set-cookie"]?.contains("Max-Age=0") == true)

        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }

    /// Behind a TLS proxy (`http.public_origin`): the cookie is `Secure`, and a POST must come
    /// from that origin, not from the address the proxy forwards to.
    @Test func behindAnHTTPSProxyTheCookieIsSecureAndOnlyThatOriginMayPost() async throws {
        let directory = try Paths.temporaryDirectory("console-origin")
        let daemon = try await HTTPAPITests.start(directory, extra: ["HTTP_PUBLIC_ORIGIN": "https://Tidings.Example:443"])
        let base = daemon.base
        let direct = try await Self.call("POST", "\(base)/console/login", form: "token=\(HTTPAPITests.reader)", origin: base)
        #expect(direct.status == 403 && direct.headers["set-cookie"] == nil, "not the public origin")
        let login = try await Self.call("POST", "\(base)/console/login", form: "token=\(HTTPAPITests.reader)", origin: "https://tidings.example")
        #expect(login.status == 303)
        let setCookie = try #require(login.headers["set-cookie"])
        #expect(setCookie.contains("; Secure") && setCookie.contains("HttpOnly"), "\(setCookie)")
        let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
        let logout = try await Self.call("POST", "\(base)/console/logout", cookie: cookie, origin: "https://tidings.example")
        #expect(logout.headers["set-cookie"]?.contains("Max-Age=0; Secure") == true)
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }
}
