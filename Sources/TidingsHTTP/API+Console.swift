import Foundation
import HTTPTypes
import Hummingbird
import TidingsCore

/// The support console under `/console`: a login with an API token (read or admin scope) kept
/// in a signed cookie, search, and a customer's timeline. Pages send a strict
/// Content-Security-Policy and are never cached; nothing personal is shown without a login.
extension API {
    var consoleRoutes: [Route] {
        [
            Route(method: .get, path: "/console") { request, _ in
                consoleSession(request) == nil ? redirect("/console/login") : redirect("/console/search")
            },
            Route(method: .get, path: "/console/login") { _, _ in page(ConsolePage.login()) },
            Route(method: .post, path: "/console/login") { request, _ in try await consoleLogin(request) },
            Route(method: .post, path: "/console/logout") { _, _ in
                var response = redirect("/console/login")
                response.headers[.setCookie] = "\(ConsoleSession.cookieName)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
                return response
            },
            Route(method: .get, path: "/console/console.css") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: ConsolePage.stylesheet)))
            },
            Route(method: .get, path: "/console/search") { request, _ in
                try await loggedIn(request) { session in try await consoleSearch(request, session) }
            },
            Route(method: .get, path: "/console/customers/:id") { request, context in
                try await loggedIn(request) { session in try await consoleCustomer(context.parameters.get("id") ?? "", session) }
            },
            Route(method: .get, path: "/console/messages/:id/email") { request, context in
                try await loggedIn(request) { _ in try await consoleEmail(context.parameters.get("id").flatMap(Int64.init)) }
            },
        ]
    }

    var sessionKeys: ConsoleSession.Keys { ConsoleSession.Keys(tokens: environment.settings.tokens) }

    func consoleSession(_ request: Request) -> ConsoleSession? {
        guard let value = request.cookies[ConsoleSession.cookieName]?.value else { return nil }
        return sessionKeys.session(from: value, now: Date())
    }

    /// Runs `body` for a logged-in request; any other goes to the login page.
    func loggedIn(_ request: Request, _ body: (ConsoleSession) async throws -> Response) async throws -> Response {
        guard let session = consoleSession(request) else { return redirect("/console/login") }
        return try await body(session)
    }

    func consoleLogin(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let form = Self.formFields(String(buffer: body))
        guard let presented = form["token"], let token = tokens.token(presented: presented.trimmingCharacters(in: .whitespaces)),
              let session = sessionKeys.session(for: token, now: Date())
        else {
            return page(ConsolePage.login(problem: "That token is not known, or has neither the read nor the admin scope."), status: .unauthorized)
        }
        var response = redirect("/console/search")
        response.headers[.setCookie] = "\(ConsoleSession.cookieName)=\(sessionKeys.cookieValue(session)); Path=/console; HttpOnly; "
            + "SameSite=Strict; Max-Age=\(Int(ConsoleSession.lifetime))"
        return response
    }

    func consoleSearch(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { return page(ConsolePage.search("", found: nil, session: session)) }
        let reads = environment.reads
        var found = ConsolePage.Found()
        if let customer = try await reads.customer(id: query) { found.customers.append(customer) }
        for customer in try await reads.customers(withContact: query, limit: 20) where customer.id != query { found.customers.append(customer) }
        if let order = try await reads.order(id: query) { found.orders.append(order) }
        // A reference is the ticket's id in capitals.
        for id in Set([query, query.lowercased()]) {
            if let ticket = try await reads.ticket(id: id), !found.tickets.contains(where: { $0.id == ticket.id }) { found.tickets.append(ticket) }
        }
        if let target = try await reads.receiptTarget(key: query) {
            found.messages += try await reads.messages(state: nil, customerID: target.customerID, subjectID: nil, id: nil, after: nil, limit: 500)
                .filter { $0.key == target.key }
        }
        return page(ConsolePage.search(query, found: found, session: session))
    }

    /// Up to 500 messages and 100 orders and tickets: a customer with more is rare, and the
    /// page says what it shows.
    func consoleCustomer(_ id: String, _ session: ConsoleSession) async throws -> Response {
        let reads = environment.reads
        guard let customer = try await reads.customer(id: id) else {
            return page(ConsolePage.notFound("There is no customer \(id) (a forgotten customer is gone).", session: session), status: .notFound)
        }
        let orders = try await reads.orders(customerID: id, limit: 100)
        let tickets = try await reads.tickets(customerID: id, limit: 100)
        let messages = try await reads.messages(state: nil, customerID: id, subjectID: nil, id: nil, after: nil, limit: 500)
        var shown: [Int64: ConsolePage.ShownMessage] = [:]
        for message in messages {
            shown[message.id] = ConsolePage.ShownMessage(summary: message, attempts: try await reads.attempts(messageID: message.id),
                                                         rendered: try await render(message.id))
        }
        let timeline = CustomerTimeline(customer: customer, orders: orders, tickets: tickets, messages: messages)
        return page(ConsolePage.customer(customer, orders: orders, tickets: tickets, timeline: timeline, messages: shown, now: environment.clock(),
                                         session: session))
    }

    /// A message's content as the customer saw it; nil for one without a channel (skipped,
    /// parked) or whose content was erased.
    func render(_ id: Int64) async throws -> Result<RenderedMessage, ConsoleError>? {
        guard let content = try await environment.reads.messageContent(id: id), let channel = content.channel, content.context != .null else { return nil }
        guard let catalog = environment.catalog else { return .failure(ConsoleError(.noTemplates, "this server has no templates loaded")) }
        do {
            return .success(try catalog.render(template: content.template, channel: channel, locale: content.locale, context: content.context))
        } catch {
            return .failure(ConsoleError(.cannotRender, "the template \(content.template) does not render now (\(error))"))
        }
    }

    func consoleEmail(_ id: Int64?) async throws -> Response {
        guard let id, case .success(let rendered)? = try await render(id), let html = rendered.html else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "no email content for this message")))
        }
        var headers = Self.consoleHeaders(policy: ConsolePage.emailPolicy)
        headers[Self.frameOptions] = "SAMEORIGIN"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: Self.consoleHeaders(policy: ConsolePage.policy), body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func redirect(_ location: String) -> Response {
        var headers = Self.consoleHeaders(policy: ConsolePage.policy)
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    // Not among swift-http-types' names; both are valid field names.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    static func consoleHeaders(policy: String) -> HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: policy, .cacheControl: "no-store",
            .xContentTypeOptions: "nosniff", Self.referrerPolicy: "no-referrer", Self.frameOptions: "DENY",
        ]
    }

    /// `application/x-www-form-urlencoded` fields; the first of a repeated name wins.
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}
