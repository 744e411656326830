import Foundation
import Testing
@testable import TidingsCore

/// The hand-written RFC 3339 parser: it must agree with the calendar and refuse near misses.
struct TimestampTests {
    @Test func readsUTCOffsetsAndFractions() throws {
        #expect(Timestamp.parse("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        #expect(Timestamp.parse("2026-11-23T09:30:00Z")?.timeIntervalSince1970 == 1_795_426_200)
        #expect(Timestamp.parse("2026-11-23T10:30:00+01:00") == Timestamp.parse("2026-11-23T09:30:00Z"))
        #expect(Timestamp.parse("2026-11-23T04:00:00-05:30") == Timestamp.parse("2026-11-23T09:30:00Z"))
        #expect(Timestamp.parse("2026-11-23t09:30:00z") == Timestamp.parse("2026-11-23T09:30:00Z"))
        let fractional = try #require(Timestamp.parse("2026-11-23T09:30:00.250Z"))
        #expect(abs(fractional.timeIntervalSince1970 - 1_795_426_200.25) < 1e-6)
        #expect(Timestamp.parse("2024-02-29T12:00:00Z") != nil)
        #expect(Timestamp.parse("1969-12-31T23:59:59Z")?.timeIntervalSince1970 == -1)
    }

    @Test func agreesWithTheGregorianCalendar() throws {
        let calendar = Calendar.gregorian(in: try #require(TimeZone(identifier: "UTC")))
        for (year, month, day) in [(1999, 12, 31), (2000, 2, 29), (2026, 3, 29), (2100, 3, 1), (2399, 11, 30)] {
            let expected = try #require(calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 13, minute: 5, second: 9)))
            let text = String(format: "%04d-%02d-%02dT13:05:09Z", year, month, day)
            #expect(Timestamp.parse(text) == expected, "\(text)")
        }
    }

    @Test func refusesNearMisses() {
        for text in ["", "2026-11-23", "2026-11-23T09:30Z", "2026-11-23T09:30:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                     "2026-11-31T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T09:60:00Z", "2026-11-23T09:30:00.Z",
                     "2026-11-23T09:30:00+0100", "2026-11-23T09:30:00Z ", "2026-11-23 09:30:00Z", "20261123T093000Z", "2026-1a-23T09:30:00Z"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }
}

/// Times written by hand against Foundation's formatting and calendar, on random instants.
@Suite("Timestamps written by hand")
struct TimestampFormattingTests {
    @Test func matchesFoundationOnRandomInstants() {
        var state: UInt64 = 2026
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        let zones = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]
            .compactMap(TimeZone.init(identifier:))
        for _ in 0..<3_000 {
            // 1900 to 2300, with fractions of a second.
            let seconds = -2_208_988_800 + Double(next() % 12_623_040_000) + Double(next() % 1000) / 1000
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.format(date) == date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false)), "\(seconds)")
            let zone = zones[Int(next() % UInt64(zones.count))]
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            func two(_ v: Int?) -> String { (v ?? 0) < 10 ? "0\(v ?? 0)" : "\(v ?? 0)" }
            let expected = "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) \(zone.identifier)"
            #expect(Timestamp.dayAndTime(date, in: zone) == expected, "\(seconds) in \(zone.identifier)")
        }
        #expect(Timestamp.day(Date(timeIntervalSince1970: -1)) == "1969-12-31")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0.999)) == "1970-01-01T00:00:00Z")
    }

    /// The email Date header agrees with Foundation's formatter, weekday included, on random
    /// instants from 1900 to 2200.
    @Test func rfc5322DatesMatchFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)))
            #expect(Timestamp.rfc5322(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }

    /// Each date written straight into its string reads as the general path writes it (six
    /// zero-padded numbers interpolated), across the years a fixed width holds and past them.
    @Test func writtenStraightMatchesTheGeneralPath() {
        var state: UInt64 = 77
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        func p(_ value: Int, _ count: Int) -> String { Timestamp.padded(value, count) }
        let edges: [Double] = [-62_167_219_200, -62_167_219_201, 253_402_300_799, 253_402_300_800, 0, -1]  // 0000-01-01, 9999-12-31, 10000
        let zone = TimeZone(identifier: "Asia/Kolkata")
        for index in 0..<4_000 {
            // Years -200 to 12,000.
            let seconds = index < edges.count ? edges[index] : -68_500_000_000 + Double(next() % 386_000_000_000)
            let date = Date(timeIntervalSince1970: seconds)
            let f = Timestamp.fields(date)
            #expect(Timestamp.format(date) == "\(p(f.year, 4))-\(p(f.month, 2))-\(p(f.day, 2))T\(p(f.hour, 2)):\(p(f.minute, 2)):\(p(f.second, 2))Z", "\(seconds)")
            #expect(Timestamp.day(date) == "\(p(f.year, 4))-\(p(f.month, 2))-\(p(f.day, 2))", "\(seconds)")
            #expect(Timestamp.dayAndTime(date) == "\(p(f.year, 4))-\(p(f.month, 2))-\(p(f.day, 2)) \(p(f.hour, 2)):\(p(f.minute, 2)) UTC", "\(seconds)")
            let header = Timestamp.rfc5322(date)
            #expect(header.hasSuffix(" \(f.year) \(p(f.hour, 2)):\(p(f.minute, 2)):\(p(f.second, 2)) +0000"), "\(seconds): \(header)")
            #expect(header.dropFirst(5).hasPrefix("\(p(f.day, 2)) "), "\(seconds): \(header)")
            if let zone {
                let local = Timestamp.fields(date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date))))
                #expect(Timestamp.dayAndTime(date, in: zone)
                    == "\(p(local.year, 4))-\(p(local.month, 2))-\(p(local.day, 2)) \(p(local.hour, 2)):\(p(local.minute, 2)) Asia/Kolkata")
            }
        }
    }
}
