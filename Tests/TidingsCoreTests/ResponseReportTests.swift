import Foundation
import Testing
@testable import TidingsCore

/// The numbers behind the console's charts: latency percentiles per hour, and promises kept
/// per day and kind.
@Suite("Response report")
struct ResponseReportTests {
    let now = Date(timeIntervalSince1970: 1_795_003_000)  // 10:36:40 UTC

    func ack(_ hoursAgo: Double, _ seconds: TimeInterval) -> ResponseReport.Acknowledgement {
        let at = now.addingTimeInterval(-hoursAgo * 3600)
        return ResponseReport.Acknowledgement(eventAt: at, sentAt: at.addingTimeInterval(seconds))
    }

    @Test func latenciesArePerHourByNearestRank() throws {
        let samples = (1...100).map { ack(0.1, Double($0) / 1000) } + [ack(2.2, 5), ack(2.3, 7), ack(60, 1)]
        let rows = ResponseReport.latencies(samples, hours: 48, now: now)
        #expect(rows.count == 2, "an hour with none has no row; one 60 hours back is outside")
        let latest = try #require(rows.last)
        func ms(_ seconds: TimeInterval) -> Int { Int((seconds * 1000).rounded()) }
        #expect(latest.count == 100 && ms(latest.p50) == 50 && ms(latest.p90) == 90 && ms(latest.p99) == 99)
        #expect(ms(rows.first!.p50) == 5_000 && ms(rows.first!.p99) == 7_000)
        #expect(rows.first!.hour < latest.hour)
        #expect(ResponseReport.latencies([], hours: 48, now: now).isEmpty)
        // A clock that ran backwards between the two never shows as a negative latency.
        #expect(ResponseReport.latencies([ack(0.5, -3)], hours: 1, now: now).first?.p50 == 0)
    }

    @Test func theChartsAxesHaveEveryHourAndDayOfTheirWindow() {
        let hours = ResponseReport.hourStarts(hours: 48, now: now)
        #expect(hours.count == 48)
        #expect(hours.last.map { Int($0.timeIntervalSince1970) % 3600 } == 0 && hours.last! <= now && now.timeIntervalSince(hours.last!) < 3600)
        #expect(zip(hours, hours.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 3600 })
        let days = ResponseReport.dayLabels(days: 14, now: now)
        #expect(days.count == 14 && days.last == String(Timestamp.format(now).prefix(10)) && days == days.sorted())
        #expect(ResponseReport.hourStarts(hours: 0, now: now).isEmpty && ResponseReport.dayLabels(days: -1, now: now).isEmpty)
    }

    @Test func promisesAreKeptBrokenOrNotYetDecided() throws {
        func ticket(_ id: String, kind: String, openedHoursAgo: Double, answeredAfter: Double?, resolvedAfter: Double?) -> Ticket {
            let opened = now.addingTimeInterval(-openedHoursAgo * 3600)
            return Ticket(id: id, customerID: "c", kind: kind, status: .open, summary: nil, orderID: nil, channel: nil, openedAt: opened,
                          firstResponseAt: answeredAfter.map { opened.addingTimeInterval($0 * 3600) },
                          resolvedAt: resolvedAfter.map { opened.addingTimeInterval($0 * 3600) },
                          firstResponseDue: opened.addingTimeInterval(8 * 3600), resolutionDue: opened.addingTimeInterval(72 * 3600))
        }
        let tickets = [
            ticket("t-1", kind: "complaint", openedHoursAgo: 9, answeredAfter: 2, resolvedAfter: nil),    // kept; resolution not due yet
            ticket("t-2", kind: "complaint", openedHoursAgo: 9.5, answeredAfter: 9, resolvedAfter: nil),  // answered late
            ticket("t-3", kind: "complaint", openedHoursAgo: 10, answeredAfter: nil, resolvedAfter: nil), // overdue: broken
            ticket("t-4", kind: "query", openedHoursAgo: 1, answeredAfter: nil, resolvedAfter: nil),      // not due: undecided
            ticket("t-5", kind: "query", openedHoursAgo: 100, answeredAfter: 1, resolvedAfter: 80),       // resolved late
            ticket("t-6", kind: "query", openedHoursAgo: 24 * 30, answeredAfter: 1, resolvedAfter: 1),    // outside 14 days
        ]
        let rows = ResponseReport.promises(tickets, days: 14, now: now)
        let complaints = try #require(rows.first { $0.kind == "complaint" })
        #expect(complaints.opened == 3 && complaints.answered.kept == 1 && complaints.answered.broken == 2)
        #expect(complaints.resolved.kept == 0 && complaints.resolved.broken == 0 && complaints.resolved.share == nil)
        let queries = rows.filter { $0.kind == "query" }
        #expect(queries.count == 2, "two days: today's and four days back")
        #expect(queries.first!.resolved.broken == 1 && queries.first!.answered.kept == 1)
        #expect(queries.last!.answered.share == nil)
        #expect(rows.map(\.day) == rows.map(\.day).sorted())
    }
}
