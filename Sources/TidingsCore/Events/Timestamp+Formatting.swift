import Foundation

/// Dates written out: every template context, timer, webhook and email holds some. Each is
/// written as ASCII straight into one string; interpolating six zero-padded strings a date
/// was 1-2% of a catch-up's samples (BENCHMARKS.md).
extension Timestamp {
    /// `2026-11-25T14:30:00Z`. Written by hand: Foundation's ISO 8601 style cost microseconds
    /// per call on the pipeline's path (every template context and timer holds some).
    public static func format(_ date: Date) -> String {
        let f = fields(date)
        return ASCIIWriter.string(capacity: 20 + ASCIIWriter.slack(year: f.year)) { w in
            w.date(f)
            w.byte("T")
            w.time(f, seconds: true)
            w.byte("Z")
        }
    }

    /// `Wed, 25 Nov 2026 14:30:00 +0000`: an email's Date header (RFC 5322), in UTC.
    public static func rfc5322(_ date: Date) -> String {
        let f = fields(date)
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1 January 1970 was a Thursday.
        let weekday = ((days + 4) % 7 + 7) % 7
        return ASCIIWriter.string(capacity: 31 + ASCIIWriter.slack(year: f.year)) { w in
            w.text(weekdays[weekday])
            w.text(", ")
            w.digits(f.day, 2)
            w.byte(" ")
            w.text(months[f.month - 1])
            w.byte(" ")
            w.digits(f.year, 1)
            w.byte(" ")
            w.time(f, seconds: true)
            w.text(" +0000")
        }
    }

    /// `2026-11-25` in UTC, for customer-facing dates.
    public static func day(_ date: Date) -> String {
        let f = fields(date)
        return ASCIIWriter.string(capacity: 10 + ASCIIWriter.slack(year: f.year)) { $0.date(f) }
    }

    /// `2026-11-25 14:30 UTC`, for customer-facing times.
    public static func dayAndTime(_ date: Date) -> String {
        wallClock(fields(date), zone: "UTC")
    }

    /// `2026-11-25 14:30 Europe/London`: a promised time in a named zone.
    public static func dayAndTime(_ date: Date, in zone: TimeZone) -> String {
        guard zone.identifier != "UTC", zone.identifier != "GMT" else { return dayAndTime(date) }
        // The zone's offset at that instant makes its wall-clock time: no calendar needed.
        return wallClock(fields(date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date)))), zone: zone.identifier)
    }

    private static func wallClock(_ f: Fields, zone: String) -> String {
        ASCIIWriter.string(capacity: 17 + zone.utf8.count + ASCIIWriter.slack(year: f.year)) { w in
            w.date(f)
            w.byte(" ")
            w.time(f, seconds: false)
            w.byte(" ")
            w.text(zone)
        }
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `value` with zeros in front up to `count` characters: how a year outside 0-9999 (a date
    /// no event carries, but nothing stops one) is written.
    static func padded(_ value: Int, _ count: Int) -> String {
        let text = String(value)
        return text.count >= count ? text : String(repeating: "0", count: count - text.count) + text
    }
}

/// Writes ASCII into a string's own storage. Callers size `capacity` for what they write
/// (four digits a year, plus `slack(year:)`); a write past it is dropped rather than made (it
/// cannot happen for the layouts above).
private struct ASCIIWriter {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    /// Room beyond four digits for a year outside 0-9999 (an `Int` has up to 19 digits and a
    /// sign); none for the others, so a date of ten characters stays a small string.
    static func slack(year: Int) -> Int { (0...9999).contains(year) ? 0 : 16 }

    static func string(capacity: Int, _ write: (inout ASCIIWriter) -> Void) -> String {
        String(unsafeUninitializedCapacity: capacity) { buffer in
            var writer = ASCIIWriter(buffer: buffer)
            write(&writer)
            return writer.count
        }
    }

    mutating func byte(_ character: Unicode.Scalar) {
        guard count < buffer.count else { return }
        buffer[count] = UInt8(ascii: character)
        count += 1
    }

    mutating func text(_ text: String) {
        for byte in text.utf8 where count < buffer.count {
            buffer[count] = byte
            count += 1
        }
    }

    /// A value zero-padded to `width`: four digits or fewer here, any other as `padded`.
    mutating func digits(_ value: Int, _ width: Int) {
        guard (0...9999).contains(value) else { return text(Timestamp.padded(value, width)) }
        var divisor = 1000
        var started = false
        for place in stride(from: 4, through: 1, by: -1) {
            let digit = value / divisor % 10
            if started || digit != 0 || place <= width || place == 1 {
                started = true
                guard count < buffer.count else { return }
                buffer[count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: digit)
                count += 1
            }
            divisor /= 10
        }
    }

    mutating func date(_ f: Timestamp.Fields) {
        digits(f.year, 4)
        byte("-")
        digits(f.month, 2)
        byte("-")
        digits(f.day, 2)
    }

    mutating func time(_ f: Timestamp.Fields, seconds: Bool) {
        digits(f.hour, 2)
        byte(":")
        digits(f.minute, 2)
        if seconds {
            byte(":")
            digits(f.second, 2)
        }
    }
}
