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
