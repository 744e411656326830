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
            Route(method: .post, path: "/console/login") { request, _ in
                guard fromThisSite(request) else { return page(ConsolePage.login(problem: "The login did not come from this console."), status: .forbidden) }
                return try await consoleLogin(request)
            },
            Route(method: .post, path: "/console/logout") { request, _ in
                guard fromThisSite(request) else { return redirect("/console/search") }
                var response = redirect("/console/login")
                response.headers[.setCookie] = sessionCookie("", maxAge: 0)
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
                try await loggedIn(request) { session in try await consoleCustomer(Self.parameter(context, "id") ?? "", before: Self.before(request), session) }
            },
            Route(method: .get, path: "/console/orders/:id") { request, context in
                try await loggedIn(request) { session in try await consoleOrder(Self.parameter(context, "id") ?? "", before: Self.before(request), session) }
            },
            Route(method: .get, path: "/console/tickets/:id") { request, context in
                try await loggedIn(request) { session in try await consoleTicket(Self.parameter(context, "id") ?? "", before: Self.before(request), session) }
            },
            Route(method: .get, path: "/console/messages/:id/email") { request, context in
                try await loggedIn(request) { _ in try await consoleEmail(Self.parameter(context, "id").flatMap(Int64.init)) }
            },
            Route(method: .get, path: "/console/preview") { request, _ in
                try await loggedIn(request) { session in try await consolePreview(request, session) }
            },
            Route(method: .get, path: "/console/preview/email") { request, _ in
                try await loggedIn(request) { _ in try await consolePreviewEmail(request) }
            },
            Route(method: .get, path: "/console/promises") { request, _ in
                try await loggedIn(request) { session in try await consolePromises(request, session) }
            },
            Route(method: .get, path: "/console/operations") { request, _ in
                try await loggedIn(request) { session in try await consoleOperations(session) }
            },
            Route(method: .get, path: "/console/messages/:id/retry") { request, context in
                try await loggedIn(request) { session in try await confirmRetry(Self.parameter(context, "id").flatMap(Int64.init), session) }
            },
            Route(method: .post, path: "/console/messages/:id/retry") { request, context in
                try await loggedIn(request) { session in
                    try await administering(request, session) { try await consoleRetry(Self.parameter(context, "id").flatMap(Int64.init), session) }
                }
            },
            Route(method: .get, path: "/console/endpoints/:channel/enable") { request, context in
                try await loggedIn(request) { session in confirmEnable(Self.parameter(context, "channel").flatMap(Channel.init(rawValue:)), session) }
            },
            Route(method: .post, path: "/console/endpoints/:channel/enable") { request, context in
                try await loggedIn(request) { session in
                    try await administering(request, session) {
                        try await consoleEnable(Self.parameter(context, "channel").flatMap(Channel.init(rawValue:)), session)
                    }
                }
            },
        ]
    }

    /// A timeline page renders each message it shows: at most this many.
    static let shownMessages = 200

    /// The request's query as a form sends it (`+` is a space).
    static func query(_ request: Request) -> [String: String] {
        FormEncoding.fields((request.uri.query ?? "").utf8)
    }

    /// `?before=`: the page of messages older than this id. Ids start at 1: anything else is
    /// the first page (and `before - 1` cannot overflow).
    static func before(_ request: Request) -> Int64? {
        query(request)["before"].flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The newest `shownMessages` messages below `before`, oldest first, and the stretch of
    /// time they cover: the events shown with them are those of the same stretch.
    func timelinePage(customerID: String?, subjectID: String?, before: Int64?) async throws -> Timeline.Page {
        let reads = environment.reads
        let newest = try await reads.latestMessages(customerID: customerID, subjectID: subjectID, before: before, limit: Self.shownMessages + 1)
        let shown = Array(newest.prefix(Self.shownMessages).reversed())
        let earlier = newest.count > Self.shownMessages ? shown.first?.id : nil
        // Until the first message of the newer page: the oldest of this customer's or subject's
        // from `before` on (ids and creation times rise together: one writer numbers them).
        var until: Date?
        if let before {
            until = try await reads.messages(state: nil, customerID: customerID, subjectID: subjectID, id: nil, after: before - 1, limit: 1).first?.createdAt
        }
        return Timeline.Page(messages: shown, from: earlier == nil ? nil : shown.first?.createdAt, until: until, earlier: earlier, later: before != nil)
    }

    /// A path parameter as the id it names (Hummingbird leaves it percent-encoded).
    static func parameter(_ context: BasicRequestContext, _ name: String) -> String? {
        context.parameters.get(name).map { $0.removingPercentEncoding ?? $0 }
    }

    /// `Secure` when browsers reach the console over https (`http.public_origin`).
    func sessionCookie(_ value: String, maxAge: Int) -> String {
        let secure = environment.settings.publicOrigin?.hasPrefix("https://") == true ? "; Secure" : ""
        return "\(ConsoleSession.cookieName)=\(value); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)\(secure)"
    }

    /// A POST without an `Origin` (an older client) or from this site: `http.public_origin`
    /// when set, else this host. A browser sends it on every POST, so a form on another site is
    /// refused even where the cookie would go along.
    func fromThisSite(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        if let expected = environment.settings.publicOrigin { return HTTPSettings.origin(origin) == expected }
        guard let authority = request.head.authority, let url = URL(string: origin), let host = url.host else { return false }
        let name = host.contains(":") ? "[\(host)]" : host
        return authority == (url.port.map { "\(name):\($0)" } ?? name)
    }

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
        let form = FormEncoding.fields(try await collect(request, limit: 16 * 1024))
        guard let presented = form["token"], let token = tokens.token(presented: presented.trimmingCharacters(in: .whitespaces)),
              let session = sessionKeys.session(for: token, now: Date())
        else {
            return page(ConsolePage.login(problem: "That token is not known, or has neither the read nor the admin scope."), status: .unauthorized)
        }
        var response = redirect("/console/search")
        response.headers[.setCookie] = sessionCookie(sessionKeys.cookieValue(session), maxAge: Int(ConsoleSession.lifetime))
        return response
    }

    func consoleSearch(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        // As a form sends it: `+` is a space.
        let query = (Self.query(request)["q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { return page(ConsolePage.search("", found: nil, session: session)) }
        let reads = environment.reads
        var found = ConsolePage.Found()
        if let customer = try await reads.customer(id: query) { found.customers.append(customer) }
        for customer in try await reads.customers(withContact: query, limit: 20) where customer.id != query { found.customers.append(customer) }
        if let order = try await reads.order(id: query) { found.orders.append(order) }
        found.tickets = try await tickets(idOrReference: query)
        if let id = try await reads.messageID(key: query), let message = try await reads.message(byID: id) { found.messages.append(message) }
        return page(ConsolePage.search(query, found: found, session: session))
    }

    /// A page of up to `shownMessages` messages (the latest first; `before` pages back) and
    /// 100 orders and tickets: a customer with more is rare, and the page says so.
    func consoleCustomer(_ id: String, before: Int64?, _ session: ConsoleSession) async throws -> Response {
        let reads = environment.reads
        guard let customer = try await reads.customer(id: id) else {
            return page(ConsolePage.notFound("There is no customer \(id) (a forgotten customer is gone).", session: session), status: .notFound)
        }
        let listed = 100, now = environment.clock()
        var orders = try await reads.orders(customerID: id, limit: listed + 1)
        var tickets = try await reads.tickets(customerID: id, limit: listed + 1)
        var held = try await reads.heldMessages(customerID: id, after: now, limit: listed + 1)
        var cut: [String] = []
        if orders.count > listed { cut.append("orders"); orders.removeLast() }
        if tickets.count > listed { cut.append("tickets"); tickets.removeLast() }
        if held.count > listed { cut.append("held messages"); held.removeLast() }
        let messages = try await timelinePage(customerID: id, subjectID: nil, before: before)
        var scheduled = try await reads.timers(subjects: orders.map(\.id) + tickets.map(\.id)).map { timer in
            ConsolePage.Scheduled(at: timer.dueAt, what: "deadline \(timer.type) about \(timer.subject)")
        }
        // Due now or earlier: the dispatcher has it; later: held.
        for held in held {
            scheduled.append(ConsolePage.Scheduled(at: held.dueAt, what: "message \(held.workflow) (\(held.id)) by \(held.channel ?? "email") "
                + "waits until then (the customer's quiet hours, or its next try)"))
        }
        scheduled.sort { $0.at < $1.at }
        let timeline = Timeline(customer: customer, orders: orders, tickets: tickets, page: messages)
        return page(ConsolePage.customer(customer, orders: orders, tickets: tickets, timeline: timeline, messages: try await show(messages.messages),
                                         scheduled: scheduled, now: now, paging: ConsolePage.Paging(page: messages, path: "/console/customers/", id: id),
                                         cut: cut.isEmpty ? nil : "This customer has more than \(listed) \(cut.joined(separator: ", ")): the page shows "
                                            + "the latest \(listed) orders and tickets and the soonest \(listed) held messages.",
                                         session: session))
    }

    /// A page's messages with their attempts and content.
    func show(_ messages: [MessageSummary]) async throws -> [Int64: ConsolePage.ShownMessage] {
        var shown: [Int64: ConsolePage.ShownMessage] = [:]
        for message in messages {
            shown[message.id] = ConsolePage.ShownMessage(summary: message, attempts: try await environment.reads.attempts(messageID: message.id),
                                                         rendered: try await render(message.id))
        }
        return shown
    }

    /// An order: its items, the delivery promise, and everything that happened to it and was
    /// said about it (with the messages about several orders that name it).
    func consoleOrder(_ id: String, before: Int64?, _ session: ConsoleSession) async throws -> Response {
        let reads = environment.reads
        guard let order = try await reads.order(id: id) else {
            return page(ConsolePage.notFound("There is no order \(id).", session: session), status: .notFound)
        }
        let messages = try await timelinePage(customerID: nil, subjectID: id, before: before)
        let e = ConsolePage.e
        let delivered = order.timeline.last { $0.type == "order.delivered" }?.at
        var details: [(String, String)] = [
            ("Status", e(order.status.rawValue)), ("Total", e("\(TemplateContext.money(order.total)) \(order.currency)")),
            ("Items", e(order.items.map { "\(String(format: "%g", $0.quantity)) × \($0.name)" }
                .joined(separator: ", "))),
            ("Placed", e(ConsolePage.time(order.placedAt))),
        ]
        if let shipBy = order.shipBy { details.append(("Ship by", e(Timestamp.day(shipBy)))) }
        if let deliverBy = order.deliverBy { details.append(("Deliver by (promised)", e(Timestamp.day(deliverBy)))) }
        if let delivered { details.append(("Delivered", e(ConsolePage.time(delivered)))) }
        if let tracking = order.tracking {
            details.append(("Tracking", e([tracking.carrier, tracking.number, tracking.estimatedDelivery.map { "expected \($0)" }].compactMap { $0 }
                .joined(separator: " "))))
        }
        let timeline = Timeline(customer: nil, orders: [order], tickets: [], page: messages)
        return page(ConsolePage.subject(title: "Order \(order.id)", details: details, customerID: order.customerID, timeline: timeline,
                                        messages: try await show(messages.messages),
                                        paging: ConsolePage.Paging(page: messages, path: "/console/orders/", id: order.id), session: session))
    }

    /// The ticket with this id, and the one it is the reference of (a reference is the id in
    /// capitals): the id first.
    func tickets(idOrReference text: String) async throws -> [Ticket] {
        var tickets: [Ticket] = []
        for id in text == text.lowercased() ? [text] : [text, text.lowercased()] {
            if let ticket = try await environment.reads.ticket(id: id) { tickets.append(ticket) }
        }
        return tickets
    }

    /// A ticket (by id or reference): its promises and its timeline.
    func consoleTicket(_ id: String, before: Int64?, _ session: ConsoleSession) async throws -> Response {
        guard let ticket = try await tickets(idOrReference: id).first else {
            return page(ConsolePage.notFound("There is no ticket \(id).", session: session), status: .notFound)
        }
        let messages = try await timelinePage(customerID: nil, subjectID: ticket.id, before: before)
        let e = ConsolePage.e, now = environment.clock()
        var details: [(String, String)] = [
            ("Kind", e(ticket.kind)), ("Status", e(ticket.status.rawValue)), ("Opened", e(ConsolePage.time(ticket.openedAt))),
            ("First response", ConsolePage.promise(due: ticket.firstResponseDue, kept: ticket.firstResponseAt, now: now)),
            ("Resolution", ConsolePage.promise(due: ticket.resolutionDue, kept: ticket.resolvedAt, now: now)),
        ]
        if let summary = ticket.summary { details.append(("Summary", e(summary))) }
        if let orderID = ticket.orderID { details.append(("Order", ConsolePage.link(order: orderID))) }
        let timeline = Timeline(customer: nil, orders: [], tickets: [ticket], page: messages)
        return page(ConsolePage.subject(title: "Ticket \(ticket.reference)", details: details, customerID: ticket.customerID, timeline: timeline,
                                        messages: try await show(messages.messages),
                                        paging: ConsolePage.Paging(page: messages, path: "/console/tickets/", id: ticket.id), session: session))
    }

    /// A message's content as the customer saw it; nil for one without a channel (skipped,
    /// parked) or whose content was erased. A stored context that does not read says so.
    func render(_ id: Int64) async throws -> Result<RenderedMessage, ConsoleError>? {
        guard let content = try await environment.reads.messageContent(id: id), let channel = content.channel else { return nil }
        guard content.context != .null else { return .failure(ConsoleError(.cannotRender, "its stored context does not read")) }
        guard let catalog = environment.catalog else { return .failure(ConsoleError(.noTemplates, "this server has no templates loaded")) }
        do {
            return .success(try catalog.render(template: content.template, channel: channel, locale: content.locale, context: content.context))
        } catch {
            return .failure(ConsoleError(.cannotRender, "the template \(content.template) does not render now (\(error))"))
        }
    }

    func consoleEmail(_ id: Int64?) async throws -> Response {
        var html: String?
        if let id, case .success(let rendered)? = try await render(id) { html = rendered.html }
        return Self.emailFrame(html, missing: "no email content for this message")
    }

    /// An email's HTML for a sandboxed frame of the console's own pages, under the email's own
    /// policy; without one, a plain 404 that says what is missing.
    static func emailFrame(_ html: String?, missing: String) -> Response {
        guard let html else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: missing)))
        }
        var headers = consoleHeaders(policy: ConsolePage.emailPolicy)
        headers[frameOptions] = "SAMEORIGIN"
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

    // Not among swift-http-types' names; both are valid field names. `same-origin`, not
    // `no-referrer`: with the latter a browser sends `Origin: null` on the console's own forms.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    static func consoleHeaders(policy: String) -> HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: policy, .cacheControl: "no-store",
            .xContentTypeOptions: "nosniff", Self.referrerPolicy: "same-origin", Self.frameOptions: "DENY",
        ]
    }
}
