import Foundation

extension Calendar {
    /// The Gregorian calendar in a time zone: its local days, weekdays and wall-clock times.
    public static func gregorian(in zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// `2026-12-25`: the local day that holds `date`.
    func dayText(_ date: Date) -> String {
        let parts = dateComponents([.year, .month, .day], from: date)
        return "\(parts.year ?? 0)-\(Self.twoDigits(parts.month))-\(Self.twoDigits(parts.day))"
    }

    /// `14:30`: the local wall-clock time of `date`.
    func timeText(_ date: Date) -> String {
        let parts = dateComponents([.hour, .minute], from: date)
        return "\(Self.twoDigits(parts.hour)):\(Self.twoDigits(parts.minute))"
    }

    static func twoDigits(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : "\(value)"
    }
}
