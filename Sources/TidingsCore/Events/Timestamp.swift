import Foundation

/// RFC 3339 timestamps, parsed strictly enough to refuse garbage and loosely enough to take
/// what real producers send (fractional seconds or not, `Z` or an offset).
public enum Timestamp {
    // Built once: parsing runs for every event appended.
    private static let plain = Date.ISO8601FormatStyle()
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public static func parse(_ text: String) -> Date? {
        let normalised = text.replacingOccurrences(of: "z", with: "Z")
        if let date = try? plain.parse(normalised) { return date }
        if let date = try? withFraction.parse(normalised) { return date }
        return nil
    }

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }

    /// `2026-11-25` in UTC, for customer-facing dates.
    public static func day(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle().year().month().day()
        style.timeZone = TimeZone(identifier: "UTC") ?? .current
        return date.formatted(style)
    }

    /// `2026-11-25 14:30 UTC`, for customer-facing times.
    public static func dayAndTime(_ date: Date) -> String {
        let full = format(date) // 2026-11-25T14:30:00Z
        let dayPart = full.prefix(10)
        let timePart = full.dropFirst(11).prefix(5)
        return "\(dayPart) \(timePart) UTC"
    }

    /// The last second of a day (`2026-11-29`) in a time zone; nil when the text is not a date.
    public static func endOfDay(_ text: String, in zone: TimeZone) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard text.count == 10, parts.count == 3 else { return nil }
        let calendar = Calendar.gregorian(in: zone)
        guard let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            let next = calendar.date(byAdding: .day, value: 1, to: start)
        else { return nil }
        return next.addingTimeInterval(-1)
    }

    /// `2026-11-25 14:30 Europe/London`: a promised time in a named zone.
    public static func dayAndTime(_ date: Date, in zone: TimeZone) -> String {
        guard zone.identifier != "UTC", zone.identifier != "GMT" else { return dayAndTime(date) }
        let calendar = Calendar.gregorian(in: zone)
        return "\(calendar.dayText(date)) \(calendar.timeText(date)) \(zone.identifier)"
    }

    /// Minutes after midnight for a time of day `HH:MM`, or nil when the text is not one.
    public static func minutesOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }
}
