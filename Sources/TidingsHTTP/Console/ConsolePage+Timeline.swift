import Foundation
import TidingsCore

extension ConsolePage {
    /// One message of a timeline, as the page shows it: its attempts, and its content as the
    /// customer saw it (or why it cannot be shown).
    struct ShownMessage {
        var summary: MessageSummary
        var attempts: [AttemptSummary]
        var rendered: Result<RenderedMessage, ConsoleError>?
    }

    /// Links to a timeline's older page and back to its latest.
    struct Paging {
        var earlier: String?
        var latest: String?

        init(page: Timeline.Page, path: String, id: String) {
            let base = path + FormEncoding.percentEncode(id)
            earlier = page.earlier.map { "\(base)?before=\($0)" }
            latest = page.later ? base : nil
        }
    }

    /// Something that will happen unless things change: a deadline timer, or a message held.
    struct Scheduled {
        var at: Date
        var what: String
    }

    /// A customer's details, their orders and tickets with the promises made, and everything
    /// that happened and was sent, in time order.
    static func customer(_ customer: Customer, orders: [Order], tickets: [Ticket], timeline: Timeline,
                         messages: [Int64: ShownMessage], scheduled: [Scheduled], now: Date, paging: Paging, cut: String?, session: ConsoleSession) -> String {
        var body = "<h1>Customer \(e(customer.id))</h1>\n"
        if let cut { body += "<p>\(e(cut))</p>\n" }
        body += "<dl>\n"
        let details: [(String, String?)] = [
            ("Name", customer.name), ("Email", customer.email), ("Phone", customer.phone), ("Locale", customer.locale),
            ("Time zone", customer.timezone), ("Channels", customer.preferences.channels.map(\.rawValue).joined(separator: ", ")),
            ("Quiet hours", customer.preferences.quietHours.map { "\($0.start)–\($0.end)" }),
            ("Suppressed", customer.suppressed.map { "\($0.channel.rawValue) \($0.address) (\($0.reason.rawValue))" }.joined(separator: "; ")),
        ]
        for (label, value) in details where !(value ?? "").isEmpty { body += "<dt>\(e(label))</dt><dd>\(e(value ?? ""))</dd>\n" }
        body += "</dl>\n"
        if !tickets.isEmpty {
            body += "<h2>Tickets and promises</h2>\n"
            body += table(["Ticket", "Kind", "Status", "First response due", "Resolution due"], tickets.map { ticket in
                [link(ticket: ticket), e(ticket.kind), e(ticket.status.rawValue), promise(due: ticket.firstResponseDue, kept: ticket.firstResponseAt, now: now),
                 promise(due: ticket.resolutionDue, kept: ticket.resolvedAt, now: now)]
            }, empty: "")
        }
        if !orders.isEmpty {
            body += "<h2>Orders</h2>\n"
            body += table(["Order", "Status", "Total", "Deliver by", "Tracking"], orders.map { order in
                [link(order: order.id), e(order.status.rawValue), e("\(TemplateContext.money(order.total)) \(order.currency)"), e(order.deliverBy.map(Timestamp.day) ?? "–"),
                 e([order.tracking?.carrier, order.tracking?.number].compactMap { $0 }.joined(separator: " "))]
            }, empty: "")
        }
        body += "<h2>Still to come</h2>\n"
        body += table(["When", "What"], scheduled.map { [e(time($0.at)), e($0.what)] }, empty: "Nothing is scheduled for this customer.")
        body += timelineSection(timeline, messages: messages, paging: paging)
        return layout(title: "Customer \(customer.id)", session: session, body)
    }

    /// The timeline as a list, each message with its attempts and content.
    static func timelineSection(_ timeline: Timeline, messages: [Int64: ShownMessage], paging: Paging) -> String {
        var body = "<h2>Timeline</h2>\n"
        if paging.earlier != nil || paging.latest != nil {
            body += "<p>A long history: this page shows \(API.shownMessages) messages at most, and the events of the same time."
            if let earlier = paging.earlier { body += " <a href=\"\(e(earlier))\">Earlier messages</a>" }
            if let latest = paging.latest { body += " <a href=\"\(e(latest))\">Latest messages</a>" }
            body += "</p>\n"
        }
        body += "<ol class=\"timeline\">\n"
        for entry in timeline.entries {
            switch entry.item {
            case .event(let type, let subject, let note):
                body += "<li class=\"event\"><span class=\"meta\">\(e(time(entry.at)))</span> event <strong>\(e(type))</strong> about \(e(subject))"
                body += (note.map { " — \(e($0))" } ?? "") + "</li>\n"
            case .message(let summary):
                body += messageItem(messages[summary.id] ?? ShownMessage(summary: summary, attempts: [], rendered: nil), at: entry.at)
            }
        }
        return body + "</ol>\n"
    }

    /// One order or ticket: what it is, the promise made about it, and its own timeline.
    static func subject(title: String, details: [(String, String)], customerID: String, timeline: Timeline, messages: [Int64: ShownMessage],
                        paging: Paging, session: ConsoleSession) -> String {
        var body = "<h1>\(e(title))</h1>\n<dl>\n<dt>Customer</dt><dd>\(link(customer: customerID))</dd>\n"
        for (label, value) in details { body += "<dt>\(e(label))</dt><dd>\(value)</dd>\n" }
        body += "</dl>\n" + timelineSection(timeline, messages: messages, paging: paging)
        return layout(title: title, session: session, body)
    }

    /// A promise as text: kept (when), broken (kept late, or overdue now), or still open.
    static func promise(due: Date, kept: Date?, now: Date) -> String {
        if let kept { return kept <= due ? "kept (\(e(time(kept))))" : "<strong>broken</strong>: kept \(e(time(kept))), due \(e(time(due)))" }
        return due < now ? "<strong>overdue</strong> since \(e(time(due)))" : "due \(e(time(due)))"
    }

    static func messageItem(_ shown: ShownMessage, at: Date) -> String {
        let m = shown.summary
        var html = "<li class=\"message\" id=\"message-\(m.id)\"><span class=\"meta\">\(e(time(at)))</span> message <strong>\(e(m.workflow))</strong>"
        html += " by \(e(m.channel ?? "no channel")) to \(e(m.recipient ?? "nobody"))"
        html += ": <span class=\"state-\(e(m.state.rawValue))\">\(e(m.state.rawValue))</span>"
        if let sent = m.sentAt { html += " (sent \(e(time(sent))))" }
        html += "<div class=\"meta\">key <code>\(e(m.key))</code>\(m.lastError.map { " · \(e($0))" } ?? "")</div>\n"
        if !shown.attempts.isEmpty {
            html += "<details><summary>\(shown.attempts.count) attempt\(shown.attempts.count == 1 ? "" : "s")</summary><table><tbody>\n"
            for attempt in shown.attempts {
                html += "<tr><td>\(attempt.attempt)</td><td>\(e(time(attempt.at)))</td><td>\(e(attempt.channel))</td>"
                html += "<td>\(e(attempt.outcome))</td><td>\(e(attempt.detail ?? ""))</td></tr>\n"
            }
            html += "</tbody></table></details>\n"
        }
        switch shown.rendered {
        case .success(let rendered)?:
            html += "<div class=\"meta\"><a href=\"/console/preview?message=\(m.id)\">Preview its data in every channel and locale</a></div>\n"
            if let subject = rendered.subject { html += "<div>Subject: <strong>\(e(subject))</strong></div>\n" }
            if rendered.html != nil {
                html += "<iframe sandbox loading=\"lazy\" src=\"/console/messages/\(m.id)/email\" title=\"The email \(e(m.workflow)) as sent\"></iframe>\n"
                html += "<details><summary>Plain text</summary><pre>\(e(rendered.text))</pre></details>\n"
            } else {
                html += "<pre>\(e(rendered.text))</pre>\n"
            }
        case .failure(let error)?:
            html += "<p class=\"problem\">Its content cannot be shown: \(e(error.message))</p>\n"
        case nil:
            break
        }
        return html + "</li>\n"
    }
}
