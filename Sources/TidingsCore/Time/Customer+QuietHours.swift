import Foundation

extension Customer.QuietHours {
    /// When quiet hours that hold `now` end, or nil when `now` is outside them (or the hours
    /// are not valid times, which holds nothing back). A window may run past midnight
    /// (21:00-08:00); start equal to end is no window at all.
    public func release(at now: Date, in timeZone: TimeZone) -> Date? {
        guard let start = Timestamp.minutesOfDay(start), let end = Timestamp.minutesOfDay(end), start != end else { return nil }
        let calendar = Calendar.gregorian(in: timeZone)
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let quiet = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard quiet else { return nil }
        let today = calendar.startOfDay(for: now)
        let endToday = calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: today) ?? now
        if endToday > now { return endToday }
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: today) ?? today.addingTimeInterval(86_400)
        return calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: tomorrow) ?? now
    }
}

extension Customer {
    /// The customer's own time zone, or `fallback` when they gave none (or an unknown one).
    public func timeZone(or fallback: TimeZone) -> TimeZone {
        timezone.flatMap(TimeZone.init(identifier:)) ?? fallback
    }
}
