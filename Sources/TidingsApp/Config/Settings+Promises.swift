import Configuration
import Foundation
import TidingsCore

extension Settings {
    /// Promised ticket times per kind, the business calendar they are counted in, and how delay
    /// alerts are paced.
    func promises() throws -> ServicePromises {
        var promises = ServicePromises.standard
        for kind in ["complaint", "query", "return", "feedback"] {
            let standard = promises.promise(for: kind)
            promises.byKind[kind] = ServicePromises.Promise(
                firstResponseHours: try number("promises.\(kind).first_response_hours", default: standard.firstResponseHours, range: 1...8760),
                resolutionDays: try number("promises.\(kind).resolution_days", default: standard.resolutionDays, range: 1...365))
        }
        promises.dueSoonDays = try number("promises.due_soon_days", default: promises.dueSoonDays, range: 0...60)
        promises.delayAlertWindow = try duration("promises.delay_alert_window", default: promises.delayAlertWindow,
                                                 range: 0...(30 * 86_400)) ?? promises.delayAlertWindow
        promises.calendar = try calendar()
        return promises
    }

    /// `calendar.*`: the time zone, working days and hours, and holidays of the shop's team.
    func calendar() throws -> BusinessCalendar {
        var calendar = BusinessCalendar.standard
        if let zone = text("calendar.time_zone") {
            guard let parsed = TimeZone(identifier: zone) else {
                throw ConfigError(.invalidValue, "calendar.time_zone must be an IANA time zone such as Europe/London, got \"\(zone)\"")
            }
            calendar.timeZone = parsed
        }
        if let days = list("calendar.working_days") {
            var numbers: Set<Int> = []
            for day in days {
                guard let number = BusinessCalendar.weekdayNames[String(day.lowercased().prefix(3))] else {
                    throw ConfigError(.invalidValue, "calendar.working_days must list days such as \"mon tue wed thu fri\", got \"\(day)\"")
                }
                numbers.insert(number)
            }
            guard !numbers.isEmpty else { throw ConfigError(.invalidValue, "calendar.working_days must name at least one day") }
            calendar.workingDays = numbers
        }
        if let hours = text("calendar.working_hours") {
            let parts = hours.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let opens = Timestamp.minutesOfDay(parts[0]), let closes = Timestamp.minutesOfDay(parts[1]),
                opens < closes
            else {
                throw ConfigError(.invalidValue, "calendar.working_hours must be opening and closing time such as 09:00-17:30, got \"\(hours)\"")
            }
            calendar.opens = opens
            calendar.closes = closes
        }
        for day in list("calendar.holidays") ?? [] {
            guard day.count == 10, Timestamp.parse(day + "T00:00:00Z") != nil else {
                throw ConfigError(.invalidValue, "calendar.holidays must list dates such as 2026-12-25, got \"\(day)\"")
            }
            calendar.holidays.insert(day)
        }
        return calendar
    }

    /// A list given as a YAML sequence or as one string of words (`mon tue wed`).
    func list(_ key: String) -> [String]? {
        if let items = reader.stringArray(forKey: ConfigKey(key)) { return items.map { $0.trimmingCharacters(in: .whitespaces) } }
        return text(key).map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
    }
}
