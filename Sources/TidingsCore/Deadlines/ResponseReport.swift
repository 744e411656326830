import Foundation

/// How fast customers heard back and how many promises were kept, as the console charts them:
/// acknowledgement latency per hour (p50, p90, p99) and, per day and ticket kind, the share of
/// tickets answered and resolved within their promise. Pure: samples and tickets in, rows out.
public enum ResponseReport {
    /// One acknowledgement: when its event was recorded and when the message was accepted.
    public struct Acknowledgement: Sendable, Hashable {
        public var eventAt: Date
        public var sentAt: Date

        public init(eventAt: Date, sentAt: Date) {
            self.eventAt = eventAt
            self.sentAt = sentAt
        }
    }

    public struct HourlyLatency: Sendable, Hashable {
        /// The start of the hour (UTC).
        public var hour: Date
        public var count: Int
        public var p50: TimeInterval
        public var p90: TimeInterval
        public var p99: TimeInterval
    }

    /// Tickets of one kind opened on one day: how many promises were decided (kept or broken),
    /// and how many were kept. A promise still open and not yet due is neither.
    public struct DailyPromises: Sendable, Hashable {
        public var day: String
        public var kind: String
        public var opened: Int
        public var answered = Decided()
        public var resolved = Decided()

        public struct Decided: Sendable, Hashable {
            public var kept = 0
            public var broken = 0
            public var share: Double? { kept + broken == 0 ? nil : Double(kept) / Double(kept + broken) }
        }
    }

    /// The starts of the last `hours` hours up to and including the current one, oldest first:
    /// the chart's axis, an hour without acknowledgements included.
    public static func hourStarts(hours: Int, now: Date) -> [Date] {
        let current = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        return (0..<max(hours, 0)).reversed().map { Date(timeIntervalSince1970: current - Double($0) * 3600) }
    }

    /// The last `days` days (UTC) up to and including today, oldest first, as `yyyy-mm-dd`.
    public static func dayLabels(days: Int, now: Date) -> [String] {
        let today = (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        return (0..<max(days, 0)).reversed().map { String(Timestamp.format(Date(timeIntervalSince1970: today - Double($0) * 86_400)).prefix(10)) }
    }

    /// The hours of the last `hours` up to `now` that had acknowledgements, oldest first.
    /// Percentiles by nearest rank, so each is a latency that happened.
    public static func latencies(_ samples: [Acknowledgement], hours: Int, now: Date) -> [HourlyLatency] {
        let end = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600
        let start = end - Double(hours) * 3600
        var byHour: [Double: [TimeInterval]] = [:]
        for sample in samples where sample.eventAt.timeIntervalSince1970 >= start && sample.eventAt.timeIntervalSince1970 < end {
            let hour = (sample.eventAt.timeIntervalSince1970 / 3600).rounded(.down) * 3600
            byHour[hour, default: []].append(max(0, sample.sentAt.timeIntervalSince(sample.eventAt)))
        }
        return byHour.keys.sorted().map { hour in
            let sorted = byHour[hour, default: []].sorted()
            return HourlyLatency(hour: Date(timeIntervalSince1970: hour), count: sorted.count, p50: rank(sorted, 0.50), p90: rank(sorted, 0.90),
                                 p99: rank(sorted, 0.99))
        }
    }

    static func rank(_ sorted: [TimeInterval], _ quantile: Double) -> TimeInterval {
        guard !sorted.isEmpty else { return 0 }
        let index = Int((quantile * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(index, 0), sorted.count - 1)]
    }

    /// Tickets opened in the last `days` days (UTC, today included) up to `now`, per day and
    /// kind, oldest first.
    public static func promises(_ tickets: [Ticket], days: Int, now: Date) -> [DailyPromises] {
        let since = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 - Double(max(days, 1) - 1) * 86_400)
        var rows: [String: DailyPromises] = [:]
        for ticket in tickets where ticket.openedAt >= since && ticket.openedAt <= now {
            let day = String(Timestamp.format(ticket.openedAt).prefix(10))
            var row = rows["\(day) \(ticket.kind)"] ?? DailyPromises(day: day, kind: ticket.kind, opened: 0)
            row.opened += 1
            decide(&row.answered, done: ticket.firstResponseAt, due: ticket.firstResponseDue, now: now)
            decide(&row.resolved, done: ticket.resolvedAt, due: ticket.resolutionDue, now: now)
            rows["\(day) \(ticket.kind)"] = row
        }
        return rows.values.sorted { ($0.day, $0.kind) < ($1.day, $1.kind) }
    }

    static func decide(_ decided: inout DailyPromises.Decided, done: Date?, due: Date, now: Date) {
        if let done {
            if done <= due { decided.kept += 1 } else { decided.broken += 1 }
        } else if due < now {
            decided.broken += 1
        }
    }
}
