import Foundation
import TidingsCore

extension ConsolePage {
    /// What the promises page shows, read for it.
    struct PromisesData {
        var now: Date
        var latencies: [ResponseReport.HourlyLatency]
        var hours: Int
        var promises: [ResponseReport.DailyPromises]
        var days: Int
        var atRisk: [StatusPage.Risk]
        var delivery: [DeliveryRate]
        /// The page read at most so many tickets (recent ones, open ones); more exist when it
        /// read that many, and it says so.
        var ticketsRead = (recent: 0, recentLimit: Int.max, open: 0, openLimit: Int.max)
    }

    /// Acknowledgement latency and promises kept as charts, each with its numbers in a table,
    /// then the deadlines coming up or passed, and what the providers said of deliveries.
    static func promises(_ data: PromisesData, session: ConsoleSession) -> String {
        var body = """
            <h1>Promises and response</h1>
            <p>As of \(e(time(data.now))).</p>
            <form method="get" action="/console/promises" class="window"><label for="hours">Latency over the last hours</label>
            <input id="hours" name="hours" type="number" min="1" max="2160" value="\(data.hours)">
            <label for="days">Promises over the last days</label><input id="days" name="days" type="number" min="1" max="365" value="\(data.days)">
            <button type="submit">Show</button></form>

            """
        body += "<h2 id=\"latency\">Acknowledgement latency, last \(data.hours) hours</h2>\n"
        body += "<p>From a complaint or query being recorded to its acknowledgement being accepted by the mail or SMS server.</p>\n"
        if data.latencies.isEmpty {
            body += "<p>No acknowledgement was sent in this time.</p>\n"
        } else {
            // Every hour of the window on the axis, an hour without acknowledgements a gap.
            let hours = ResponseReport.hourStarts(hours: data.hours, now: data.now)
            let byHour = Dictionary(data.latencies.map { ($0.hour, $0) }, uniquingKeysWith: { first, _ in first })
            let labels = hours.map { String(Timestamp.format($0).dropFirst(11).prefix(5)) }
            func values(_ pick: (ResponseReport.HourlyLatency) -> TimeInterval) -> [Double?] { hours.map { byHour[$0].map(pick) } }
            body += "<figure>" + SVGChart.lines(
                id: "latency-chart", title: "Acknowledgement latency per hour",
                description: "p50, p90 and p99 of the time to acknowledge, per hour, gaps where there was none; the table below has the numbers.",
                labels: labels,
                series: [
                    SVGChart.Series(name: "p50", values: values(\.p50), style: .first),
                    SVGChart.Series(name: "p90", values: values(\.p90), style: .second),
                    SVGChart.Series(name: "p99", values: values(\.p99), style: .third),
                ], format: duration) + "</figure>\n"
            body += table(["Hour", "Acknowledgements", "p50", "p90", "p99"], data.latencies.map { row in
                [e(String(Timestamp.format(row.hour).prefix(16))), "\(row.count)", e(duration(row.p50)), e(duration(row.p90)), e(duration(row.p99))]
            }, id: "latency-table", caption: "Acknowledgement latency per hour (UTC)", empty: "")
        }
        body += "<h2 id=\"promises\">Promises kept, last \(data.days) days</h2>\n"
        if data.promises.isEmpty {
            body += "<p>No ticket was opened in this time.</p>\n"
        } else {
            let days = ResponseReport.dayLabels(days: data.days, now: data.now)
            func share(_ pick: (ResponseReport.DailyPromises) -> ResponseReport.DailyPromises.Decided) -> [Double?] {
                days.map { day in
                    let decided = data.promises.filter { $0.day == day }.map(pick)
                    let kept = decided.reduce(0) { $0 + $1.kept }, total = decided.reduce(0) { $0 + $1.kept + $1.broken }
                    return total == 0 ? nil : Double(kept) / Double(total)
                }
            }
            body += "<figure>" + SVGChart.shares(
                id: "promises-chart", title: "Share of tickets answered and resolved within their promise, per day opened",
                description: "Two bars per day: first responses in time (solid) and resolutions in time (hatched); the table below has them per kind.",
                labels: days.map { String($0.dropFirst(5)) },
                series: [
                    SVGChart.Series(name: "answered in time", values: share(\.answered), style: .first),
                    SVGChart.Series(name: "resolved in time", values: share(\.resolved), style: .second),
                ]) + "</figure>\n"
            if data.ticketsRead.recent >= data.ticketsRead.recentLimit {
                body += "<p>Counted from the \(data.ticketsRead.recentLimit) most recently changed tickets: there are more.</p>\n"
            }
            body += table(["Day", "Kind", "Opened", "Answered in time", "Resolved in time"], data.promises.map { row in
                [e(row.day), e(row.kind), "\(row.opened)", decided(row.answered), decided(row.resolved)]
            }, id: "promises-table", caption: "Promises per day opened and ticket kind (open tickets not yet due are not counted)", empty: "")
        }
        body += "<h2 id=\"deadlines\">Deadlines coming up and passed</h2>\n"
        if data.ticketsRead.open >= data.ticketsRead.openLimit {
            body += "<p>Of the first \(data.ticketsRead.openLimit) open tickets only: there are more (<code>tidings status</code> counts them).</p>\n"
        }
        body += table(["Ticket", "Kind", "Promise", "Due", "Customer"], data.atRisk.map { risk in
            [e(risk.ticket.reference), e(risk.ticket.kind), e(risk.promise),
             e(time(risk.due)) + (risk.due < data.now ? " <strong>(passed)</strong>" : ""), link(customer: risk.ticket.customerID)]
        }, empty: "No open ticket's promise falls due within a week.")
        body += "<h2 id=\"delivery\">Delivery outcomes</h2>\n"
        body += table(["Channel", "Workflow", "Sent", "Delivered", "Bounced", "Complained", "Delivered share"], data.delivery.map { rate in
            [e(rate.channel), e(rate.workflow), "\(rate.sent)", "\(rate.delivered)", "\(rate.bounced)", "\(rate.complained)", rate.rate.map(percent) ?? "–"]
        }, empty: "No provider has reported on a delivery yet.")
        return layout(title: "Promises and response", session: session, body)
    }

    static func decided(_ decided: ResponseReport.DailyPromises.Decided) -> String {
        guard let share = decided.share else { return "–" }
        return "\(decided.kept) of \(decided.kept + decided.broken) (\(percent(share)))"
    }

    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

    /// Milliseconds under ten seconds, then seconds, minutes, hours.
    static func duration(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<10: "\(Int((seconds * 1000).rounded())) ms"
        case ..<120: "\(Int(seconds.rounded())) s"
        case ..<7200: "\(Int((seconds / 60).rounded())) min"
        default: "\(Int((seconds / 3600).rounded())) h"
        }
    }
}
