import Foundation

/// When the shop's team works: a time zone, working days, opening hours and holidays. Promised
/// ticket times are counted in it, so "8 working hours" asked on a Friday evening means Monday.
/// Pure: every answer depends only on the calendar and the dates passed in.
public struct BusinessCalendar: Sendable, Hashable {
    public var timeZone: TimeZone
    /// Working weekdays, Gregorian numbering (1 = Sunday ... 7 = Saturday).
    public var workingDays: Set<Int>
    /// Opening and closing time, in minutes after midnight (local time).
    public var opens: Int
    public var closes: Int
    /// Days off as `yyyy-MM-dd` in the calendar's time zone.
    public var holidays: Set<String> {
        didSet { holidayNumbers = Self.dayNumbers(holidays) }
    }
    /// The holidays as local day numbers, so walking over days is arithmetic.
    private(set) var holidayNumbers: Set<Int>

    public init(timeZone: TimeZone, workingDays: Set<Int> = [2, 3, 4, 5, 6], opens: Int = 9 * 60, closes: Int = 17 * 60 + 30,
                holidays: Set<String> = []) {
        self.timeZone = timeZone
        self.workingDays = workingDays
        self.opens = opens
        self.closes = closes
        self.holidays = holidays
        holidayNumbers = Self.dayNumbers(holidays)
    }

    /// Monday to Friday, 09:00 to 17:30, UTC, no holidays.
    public static let standard = BusinessCalendar(timeZone: TimeZone(identifier: "UTC") ?? .gmt)

    public static let weekdayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    public func isWorkingDay(_ date: Date) -> Bool { isWorkingDay(number: dayNumber(date)) }

    // Days are walked as local day numbers (days since 1970-01-01 in the calendar's zone) with
    // integer arithmetic, and turned into instants only where a time of day matters: a ticket
    // opened in the pipeline walks some forty days, and Foundation's calendar costs microseconds
    // for each step.

    /// The local day number of an instant.
    func dayNumber(_ date: Date) -> Int {
        let local = date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))
        return Int((local / 86_400).rounded(.down))
    }

    /// The instant of a wall-clock time on a local day (DST-safe: the offset is the one in force
    /// at that instant, found in two steps).
    func instant(day: Int, minutes: Int) -> Date {
        let local = Double(day * 86_400 + minutes * 60)
        var guess = local - Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: local)))
        guess = local - Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: guess)))
        return Date(timeIntervalSince1970: guess)
    }

    func isWorkingDay(number day: Int) -> Bool {
        // 1970-01-01 was a Thursday (weekday 5 when Sunday is 1).
        let weekday = ((day + 4) % 7 + 7) % 7 + 1
        return workingDays.contains(weekday) && !holidayNumbers.contains(day)
    }

    static func dayNumbers(_ days: Set<String>) -> Set<Int> {
        Set(days.compactMap { text -> Int? in
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard text.count == 10, parts.count == 3, (1...12).contains(parts[1]),
                  (1...Timestamp.daysIn(month: parts[1], year: parts[0])).contains(parts[2]) else { return nil }
            return Timestamp.daysFromCivil(year: parts[0], month: parts[1], day: parts[2])
        })
    }

    /// The moment `hours` working hours after `start`: the clock only runs while the team works.
    public func adding(workingHours hours: Double, to start: Date) -> Date {
        guard isValid else { return start.addingTimeInterval(hours * 3600) }
        var remaining = hours * 3600
        var day = dayNumber(start)
        var cursor = start
        // Ten years is the bound.
        for _ in 0..<3660 {
            if isWorkingDay(number: day) {
                let open = instant(day: day, minutes: opens)
                let close = instant(day: day, minutes: closes)
                if cursor < open { cursor = open }
                if cursor < close {
                    let available = close.timeIntervalSince(cursor)
                    if remaining <= available { return cursor.addingTimeInterval(remaining) }
                    remaining -= available
                }
            }
            // Any moment of the day before is before the next day's opening.
            day += 1
        }
        return start.addingTimeInterval(hours * 3600)
    }

    /// Closing time on the `days`-th working day after the day of `start` (the day something
    /// arrives does not count, whatever the hour).
    public func closeOfBusiness(workingDays days: Int, after start: Date) -> Date {
        workingDay(days, from: start, forward: true).map { instant(day: $0, minutes: closes) }
            ?? start.addingTimeInterval(Double(days) * 86_400)
    }

    /// Opening time on the working day `days` working days before the day of `deadline`.
    public func opening(workingDays days: Int, before deadline: Date) -> Date {
        workingDay(days, from: deadline, forward: false).map { instant(day: $0, minutes: opens) }
            ?? deadline.addingTimeInterval(-Double(days) * 86_400)
    }

    /// The local day number of the `days`-th working day after (or before) the day of `date`;
    /// nil for a calendar with no working days (ten years is the bound).
    func workingDay(_ days: Int, from date: Date, forward: Bool) -> Int? {
        guard isValid else { return nil }
        var day = dayNumber(date)
        var counted = 0
        for _ in 0..<3660 {
            day += forward ? 1 : -1
            if isWorkingDay(number: day) {
                counted += 1
                if counted >= days { return day }
            }
        }
        return nil
    }

    /// At least one working day and an opening before the close.
    public var isValid: Bool { !workingDays.isEmpty && opens < closes }
}
