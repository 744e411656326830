import Foundation

/// Durations as people write them in configuration: `90`, `90s`, `5m`, `2h`, `3d`, `1h30m`.
public enum DurationText {
    private static let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]

    /// Seconds, or nil when the text is not a duration (up to ten years). A bare number is seconds.
    public static func parse(_ text: String) -> TimeInterval? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let seconds = parseUnchecked(text), seconds.isFinite, seconds >= 0, seconds <= 10 * 366 * 86_400 else { return nil }
        return seconds
    }

    private static func parseUnchecked(_ text: String) -> TimeInterval? {
        if text.allSatisfy({ $0.isNumber || $0 == "." }), let seconds = Double(text) { return seconds }
        var total: TimeInterval = 0
        var digits = ""
        for character in text {
            if character.isNumber || character == "." {
                digits.append(character)
            } else if let unit = units[character], let value = Double(digits) {
                total += value * unit
                digits = ""
            } else {
                return nil
            }
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

    /// A list of durations separated by spaces or commas (`5s, 5m, 30m`).
    public static func parseList(_ text: String) -> [TimeInterval]? {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        let values = parts.compactMap(parse)
        return !values.isEmpty && values.count == parts.count ? values : nil
    }

    /// The shortest exact form, largest unit first: `1h30m`, `5s`, `3d`.
    public static func format(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite else { return "∞" }
        var rest = Int(min(max(0, seconds), 1e12).rounded())
        guard rest > 0 else { return "0s" }
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}
