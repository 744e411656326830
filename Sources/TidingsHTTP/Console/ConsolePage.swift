import Foundation
import TidingsCore

/// The support console's pages: server-rendered HTML with no scripts, every value escaped,
/// one stylesheet from this server (the Content-Security-Policy allows nothing else).
enum ConsolePage {
    /// Nothing but this server's stylesheet, its own frames and forms; no scripts at all.
    static let policy = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"
    /// An email's HTML as sent, in a sandboxed frame: its own inline styles, no scripts, no
    /// requests anywhere (remote images stay unloaded, so opening it tells no tracker).
    static let emailPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"

    static func e(_ text: String) -> String { HTML.escape(text) }

    static func time(_ date: Date) -> String { Timestamp.format(date) }

    /// The frame every page shares: a heading, the search box and the logout button once logged in.
    static func layout(title: String, session: ConsoleSession?, query: String = "", _ body: String) -> String {
        var header = ""
        if let session {
            header = """
                <header><nav aria-label="console">
                <a href="/console/search">Tidings console</a>
                <a href="/console/promises">Promises</a>
                <a href="/console/operations">Operations</a>
                <a href="/console/preview">Preview</a>
                <form method="get" action="/console/search" role="search"><label for="q">Search</label>
                <input id="q" name="q" type="search" value="\(e(query))" placeholder="customer id, email, phone, order, ticket or message key">
                <button type="submit">Search</button></form>
                <form method="post" action="/console/logout"><span>\(e(session.tokenName)) (\(session.admin ? "admin" : "read only"))</span>
                <button type="submit">Log out</button></form>
                </nav></header>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title)) · Tidings console</title><link rel="stylesheet" href="/console/console.css"></head><body>
            \(header)<main>
            \(body)
            </main></body></html>
            """
    }

    static func login(problem: String? = nil) -> String {
        let alert = problem.map { #"<p class="problem" role="alert">\#(e($0))</p>"# } ?? ""
        return layout(title: "Log in", session: nil, """
            <h1>Tidings console</h1>
            <p>Log in with an API token that has the <code>read</code> scope (or <code>admin</code>, to retry dead messages).</p>
            \(alert)
            <form method="post" action="/console/login" class="login">
            <label for="token">API token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required>
            <button type="submit">Log in</button>
            </form>
            """)
    }

    /// What a search found: customers (linked to their timelines), and the order, ticket or
    /// message the term names, with its customer.
    struct Found {
        var customers: [Customer] = []
        var orders: [Order] = []
        var tickets: [Ticket] = []
        var messages: [MessageSummary] = []

        var isEmpty: Bool { customers.isEmpty && orders.isEmpty && tickets.isEmpty && messages.isEmpty }
    }

    static func search(_ query: String, found: Found?, session: ConsoleSession) -> String {
        var body = "<h1>Search</h1>\n"
        guard let found else {
            body += "<p>Find a customer by their id, email address or phone number, or by an order id, a ticket reference or a message key.</p>"
            return layout(title: "Search", session: session, body)
        }
        if found.isEmpty {
            body += "<p>Nothing matches <strong>\(e(query))</strong>.</p>"
            return layout(title: "Search", session: session, query: query, body)
        }
        body += "<p>Results for <strong>\(e(query))</strong>:</p>\n<ul class=\"results\">\n"
        for customer in found.customers {
            body += "<li>Customer \(link(customer: customer.id)) \(e(customer.name ?? "")) \(e(customer.email ?? "")) \(e(customer.phone ?? ""))</li>\n"
        }
        for order in found.orders {
            body += "<li>Order \(link(order: order.id)) (\(e(order.status.rawValue))) of customer \(link(customer: order.customerID))</li>\n"
        }
        for ticket in found.tickets {
            body += "<li>Ticket \(link(ticket: ticket)) (\(e(ticket.kind)), \(e(ticket.status.rawValue))) of customer \(link(customer: ticket.customerID))</li>\n"
        }
        for message in found.messages {
            body += "<li>Message <code>\(e(message.key))</code> (\(e(message.workflow)), \(e(message.state.rawValue))) to customer \(link(customer: message.customerID))</li>\n"
        }
        return layout(title: "Search", session: session, query: query, body + "</ul>")
    }

    static func link(customer id: String) -> String {
        "<a href=\"/console/customers/\(e(FormEncoding.percentEncode(id)))\">\(e(id))</a>"
    }

    static func link(order id: String) -> String {
        "<a href=\"/console/orders/\(e(FormEncoding.percentEncode(id)))\">\(e(id))</a>"
    }

    static func link(ticket: Ticket) -> String {
        "<a href=\"/console/tickets/\(e(FormEncoding.percentEncode(ticket.id)))\">\(e(ticket.reference))</a>"
    }

    /// A table with a header row; `rows` hold HTML already escaped. No rows: `empty`, as a
    /// sentence.
    static func table(_ headers: [String], _ rows: [[String]], id: String? = nil, caption: String? = nil, empty: String) -> String {
        guard !rows.isEmpty else { return "<p>\(e(empty))</p>\n" }
        var html = "<table\(id.map { " id=\"\(e($0))\"" } ?? "")>" + (caption.map { "<caption>\(e($0))</caption>" } ?? "")
        html += "<thead><tr>" + headers.map { "<th scope=\"col\">\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
        return html + "</tbody></table>\n"
    }

    static func notFound(_ what: String, session: ConsoleSession) -> String {
        layout(title: "Not found", session: session, "<h1>Not found</h1><p>\(e(what))</p>")
    }

    static let stylesheet = """
        body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2327;background:#fff}
        header{background:#1d2327;color:#fff;padding:.5rem 1rem}header a{color:#fff;font-weight:600;text-decoration:none}
        nav{display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}nav form{display:flex;gap:.4rem;align-items:center}
        nav label{color:#fff}nav input{width:26rem;max-width:60vw;padding:.3rem}
        main{max-width:72rem;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #c3c4c7;vertical-align:top}
        .login{display:grid;gap:.5rem;max-width:24rem}.window{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}.window input{width:5rem}.login input{padding:.4rem}button{padding:.3rem .8rem;cursor:pointer}
        .problem{color:#8a1f1f;font-weight:600}.state-dead,.state-skipped,.state-suppressed{color:#8a1f1f;font-weight:600}
        .state-sent,.state-delivered{color:#00632a;font-weight:600}pre{white-space:pre-wrap;background:#f6f7f7;padding:.6rem;margin:.3rem 0}
        iframe{width:100%;height:24rem;border:1px solid #c3c4c7;background:#fff}.event{color:#3c434a}
        ol.timeline{list-style:none;padding:0}ol.timeline>li{border-left:3px solid #c3c4c7;padding:.4rem 0 .6rem 1rem;margin-left:.4rem}
        ol.timeline>li.message{border-left-color:#2271b1}.meta{color:#50575e;font-size:.9rem}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
        """
}
