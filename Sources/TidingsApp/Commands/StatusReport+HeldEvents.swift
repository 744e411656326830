import Foundation
import TidingsCore
import TidingsStore

extension StatusReport {
    /// `tidings events quarantined` and `tidings events waiting`.
    public static func render(_ held: [HeldEvent]) -> String {
        guard !held.isEmpty else { return "none" }
        var lines: [String] = []
        for event in held {
            var head = "\(event.key.description.leftPadded(8))  \((event.type ?? "-").padded(26)) \((event.subject ?? "-").padded(10))"
            switch event.kind {
            case .quarantined: head += " since \(Timestamp.format(event.heldAt)), \(event.attempts) attempt\(event.attempts == 1 ? "" : "s")"
            case .waiting: head += " until \(event.expiresAt.map(Timestamp.format) ?? "-")"
            }
            if event.retryRequested { head += ", retry requested" }
            lines.append(printable(head))
            lines.append("          " + printable(event.reason))
        }
        return lines.joined(separator: "\n")
    }

    /// Text from events, made safe for a terminal: control characters (an ESC sequence, a
    /// carriage return) are shown escaped, never acted on.
    public static func printable(_ text: String) -> String {
        var safe = ""
        safe.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                safe += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                safe.unicodeScalars.append(scalar)
            }
        }
        return safe
    }
}
