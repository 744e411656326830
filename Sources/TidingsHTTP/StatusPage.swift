import Foundation
import TidingsCore
import TidingsStore

/// The operators' page at `/`: plain server-rendered HTML that refreshes itself, with no
/// scripts, so it works in any browser and in a terminal one.
enum StatusPage {
    struct Snapshot {
        var now: Date
        var status: StoreStatus
        var lastHour: (events: Int, sent: Int)
        var dead: [MessageSummary]
        var atRisk: [Risk]
        /// Quarantined events: ids and types only, never the reasons (they may quote event data).
        var quarantined: [HeldEvent] = []
        /// What receipts said, per channel and workflow (empty until a provider reports).
        var delivery: [DeliveryRate] = []
    }

    /// A promise about to be broken, or already broken.
    struct Risk {
        var ticket: Ticket
        var promise: String
        var due: Date
    }

    /// Open tickets whose next promise falls due within a day (or has passed), soonest first.
    static func atRisk(_ tickets: [Ticket], now: Date, within horizon: TimeInterval = 86_400) -> [Risk] {
        tickets.compactMap { ticket -> Risk? in
            let risk = ticket.firstResponseAt == nil
                ? Risk(ticket: ticket, promise: "first response", due: ticket.firstResponseDue)
                : Risk(ticket: ticket, promise: "resolution", due: ticket.resolutionDue)
            return risk.due.timeIntervalSince(now) <= horizon ? risk : nil
        }.sorted { $0.due < $1.due }
    }

    static func render(_ snapshot: Snapshot) -> String {
        let status = snapshot.status
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>Tidings status</title>
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2327}
            h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
            th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #dcdcde;vertical-align:top}
            .cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #dcdcde;border-radius:6px;padding:.8rem 1rem;min-width:10rem}
            .card b{display:block;font-size:1.6rem}.bad{color:#b32d2e}.ok{color:#00a32a}
            </style></head><body>
            <h1>Tidings status</h1>
            <p>As of \(escape(Timestamp.format(snapshot.now))). This page refreshes every 10 seconds.</p>
            <section class="cards" aria-label="summary">
            <div class="card" id="events-last-hour"><b>\(snapshot.lastHour.events)</b>events in the last hour</div>
            <div class="card" id="sent-last-hour"><b>\(snapshot.lastHour.sent)</b>messages sent in the last hour</div>
            <div class="card" id="lag"><b class="\(status.lag > 0 ? "bad" : "ok")">\(status.lag)</b>events behind (pipeline lag)</div>
            <div class="card" id="dead-count"><b class="\(status.count(.dead) > 0 ? "bad" : "ok")">\(status.count(.dead))</b>dead messages</div>
            </section>
            <h2>Outbox</h2>

            """
        html += table(id: "outbox", ["State", "Messages", "By channel"], MessageState.allCases.map { state in
            [Cell(state.rawValue), Cell("\(status.count(state))"), Cell(status.byChannel(state))]
        })
        html += deliveryTable(snapshot.delivery)
        html += "<h2>Dead messages</h2>\n"
        if snapshot.dead.isEmpty {
            html += "<p id=\"dead\">No dead messages.</p>\n"
        } else {
            html += table(id: "dead", ["Id", "Workflow", "Customer", "Channel", "Why"], snapshot.dead.map { message in
                [Cell("\(message.id)"), Cell(message.workflow), Cell(message.customerID), Cell(message.channel ?? "-"),
                 Cell(reasonClass(message.lastError))]
            })
            html += "<p>The full reasons quote what the receiver said, which may hold personal data: read them with "
                + "<code>tidings deliveries show ID</code> or <code>GET /v1/deliveries?state=dead</code> (read token). "
                + "Retry with <code>tidings deliveries retry ID</code> or <code>--all-dead</code>.</p>\n"
        }
        if status.quarantined > 0 {
            html += "<h2 class=\"bad\">Quarantined events</h2>\n"
            html += "<p id=\"quarantine-warning\" class=\"bad\">\(status.quarantined) event\(status.quarantined == 1 ? " was" : "s were") set aside "
                + "because the pipeline could not apply them; the others went on. See why with <code>tidings events quarantined</code>, "
                + "and apply them again after a fix with <code>tidings events retry POSITION</code>.</p>\n"
            html += table(id: "quarantined", ["Position", "Type", "Subject", "Waited for", "Since"], snapshot.quarantined.map { held in
                [Cell(held.key.description), Cell(held.type ?? "-"), Cell(held.subject ?? "-"), Cell(held.waitingFor ?? "-"),
                 Cell(Timestamp.format(held.heldAt))]
            })
        }
        html += "<h2>Promises at risk</h2>\n"
        if snapshot.atRisk.isEmpty {
            html += "<p id=\"at-risk\">No open ticket is due within a day.</p>\n"
        } else {
            html += table(id: "at-risk", ["Ticket", "Kind", "Customer", "Promise", "Due"], snapshot.atRisk.map { risk in
                let overdue = risk.due < snapshot.now
                return [Cell(risk.ticket.reference), Cell(risk.ticket.kind), Cell(risk.ticket.customerID), Cell(risk.promise),
                        Cell(Timestamp.format(risk.due) + (overdue ? " (overdue)" : ""), class: overdue ? "bad" : "")]
            })
        }
        html += "</body></html>\n"
        return html
    }

    /// What kind of failure a reason is, without any of its text: a receiver's error body can
    /// quote the phone number or the message, and this page needs no token.
    static func reasonClass(_ reason: String?) -> String {
        guard let reason else { return "unknown" }
        let channel = reason.split(separator: ":", maxSplits: 1).first.map(String.init).flatMap(Channel.init(rawValue:))
        let prefix = channel.map { "\($0.rawValue): " } ?? ""
        func code(after marker: String) -> String? {
            guard let range = reason.range(of: marker) else { return nil }
            let digits = reason[range.upperBound...].prefix(3)
            return digits.count == 3 && digits.allSatisfy(\.isNumber) ? String(digits) : nil
        }
        let kind: String
        if reason.contains("endpoint is disabled") || reason.contains("HTTP 410") {
            kind = "endpoint gone (410)"
        } else if reason.contains("cannot render") {
            kind = "template error"
        } else if let status = code(after: "HTTP ") {
            kind = reason.contains("gave up after") ? "gave up retrying (last HTTP \(status))" : "refused (HTTP \(status))"
        } else if let reply = code(after: "SMTP ") {
            kind = reason.contains("gave up after") ? "gave up retrying (last SMTP \(reply))" : "refused (SMTP \(reply))"
        } else if reason.contains("gave up after") {
            kind = "gave up retrying"
        } else {
            kind = "failed"
        }
        return prefix + kind
    }

    /// Delivered of what receipts spoke about, per channel and workflow: acceptance by a server
    /// is not arrival.
    static func deliveryTable(_ rates: [DeliveryRate]) -> String {
        // Shown once a provider has reported something: before, every row would only say "not heard of yet".
        guard rates.contains(where: { $0.delivered + $0.bounced + $0.complained > 0 }) else { return "" }
        return "<h2>Delivery</h2>\n" + table(id: "delivery", ["Channel", "Workflow", "Delivered", "Bounced or failed", "Complaints", "Not heard of yet", "Delivery rate"],
                                             rates.map { rate in
            [Cell(rate.channel), Cell(rate.workflow), Cell("\(rate.delivered)"), Cell("\(rate.bounced)", class: rate.bounced > 0 ? "bad" : ""),
             Cell("\(rate.complained)", class: rate.complained > 0 ? "bad" : ""), Cell("\(rate.sent)"),
             Cell(rate.rate.map { String(format: "%.1f%%", $0 * 100) } ?? "-")]
        })
    }

    /// A table cell's text (escaped when written) and CSS class.
    struct Cell {
        var text: String
        var `class` = ""

        init(_ text: String, class: String = "") {
            self.text = text
            self.class = `class`
        }
    }

    static func table(id: String, _ headers: [String], _ rows: [[Cell]]) -> String {
        var html = "<table id=\"\(id)\"><thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr>" + row.map { cell in
                (cell.class.isEmpty ? "<td>" : "<td class=\"\(cell.class)\">") + escape(cell.text) + "</td>"
            }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func escape(_ text: String) -> String { HTML.escape(text) }
}
