import Foundation

extension Calendar {
    /// The Gregorian calendar in a time zone: its local days, weekdays and wall-clock times.
    public static func gregorian(in zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }
}
