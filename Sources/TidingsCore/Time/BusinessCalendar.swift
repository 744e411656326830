import Foundation

/// When the shop's team works: a time zone, working days, opening hours and holidays. Promised
/// ticket times are counted in it, so "8 working hours" asked on a Friday evening means Monday.
/// Pure: every answer depends only on the calendar and the dates passed in.
public struct BusinessCalendar: Sendable, Hashable {
    public var timeZone: TimeZone {
        didSet { calendar = .gregorian(in: timeZone) }
    }
    /// Built once, not on every day a deadline walks over.
    private(set) var calendar: Calendar
    /// Working weekdays, Gregorian numbering (1 = Sunday ... 7 = Saturday).
    public var workingDays: Set<Int>
    /// Opening and closing time, in minutes after midnight (local time).
    public var opens: Int
    public var closes: Int
    /// Days off as `yyyy-MM-dd` in the calendar's time zone.
    public var holidays: Set<String>

    public init(timeZone: TimeZone, workingDays: Set<Int> = [2, 3, 4, 5, 6], opens: Int = 9 * 60, closes: Int = 17 * 60 + 30,
                holidays: Set<String> = []) {
        self.timeZone = timeZone
        calendar = .gregorian(in: timeZone)
        self.workingDays = workingDays
        self.opens = opens
        self.closes = closes
        self.holidays = holidays
    }

    /// Monday to Friday, 09:00 to 17:30, UTC, no holidays.
    public static let standard = BusinessCalendar(timeZone: TimeZone(identifier: "UTC") ?? .gmt)

    public static let weekdayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    public func isWorkingDay(_ date: Date) -> Bool {
        workingDays.contains(calendar.component(.weekday, from: date)) && !holidays.contains(calendar.dayText(date))
    }

    /// The local day's opening and closing instants (DST-safe: built from wall-clock times).
    func hours(of day: Date) -> (open: Date, close: Date) {
        let start = calendar.startOfDay(for: day)
        let open = calendar.date(bySettingHour: opens / 60, minute: opens % 60, second: 0, of: start) ?? start
        let close = calendar.date(bySettingHour: closes / 60, minute: closes % 60, second: 0, of: start) ?? start
        return (open, close)
    }

    func nextDay(_ day: Date) -> Date {
        let start = calendar.startOfDay(for: day)
        return calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
    }

    func previousDay(_ day: Date) -> Date {
        let start = calendar.startOfDay(for: day)
        return calendar.date(byAdding: .day, value: -1, to: start) ?? start.addingTimeInterval(-86_400)
    }

    /// The moment `hours` working hours after `start`: the clock only runs while the team works.
    public func adding(workingHours hours: Double, to start: Date) -> Date {
        guard isValid else { return start.addingTimeInterval(hours * 3600) }
        var remaining = hours * 3600
        var day = start
        var cursor = start
        // Ten years is the bound.
        for _ in 0..<3660 {
            if isWorkingDay(day) {
                let (open, close) = self.hours(of: day)
                if cursor < open { cursor = open }
                if cursor < close {
                    let available = close.timeIntervalSince(cursor)
                    if remaining <= available { return cursor.addingTimeInterval(remaining) }
                    remaining -= available
                }
            }
            day = nextDay(day)
            cursor = calendar.startOfDay(for: day)
        }
        return start.addingTimeInterval(hours * 3600)
    }

    /// Closing time on the `days`-th working day after the day of `start` (the day something
    /// arrives does not count, whatever the hour).
    public func closeOfBusiness(workingDays days: Int, after start: Date) -> Date {
        workingDay(days, from: start, forward: true).map { hours(of: $0).close } ?? start.addingTimeInterval(Double(days) * 86_400)
    }

    /// Opening time on the working day `days` working days before the day of `deadline`.
    public func opening(workingDays days: Int, before deadline: Date) -> Date {
        workingDay(days, from: deadline, forward: false).map { hours(of: $0).open } ?? deadline.addingTimeInterval(-Double(days) * 86_400)
    }

    /// The `days`-th working day after (or before) the day of `date`; nil for a calendar with
    /// no working days (ten years is the bound).
    func workingDay(_ days: Int, from date: Date, forward: Bool) -> Date? {
        guard isValid else { return nil }
        var day = date
        var counted = 0
        for _ in 0..<3660 {
            day = forward ? nextDay(day) : previousDay(day)
            if isWorkingDay(day) {
                counted += 1
                if counted >= days { return day }
            }
        }
        return nil
    }

    /// At least one working day and an opening before the close.
    public var isValid: Bool { !workingDays.isEmpty && opens < closes }
}
