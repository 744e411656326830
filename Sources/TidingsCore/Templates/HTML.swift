/// HTML escaping, for the HTML parts of emails and the status page: the five characters that
/// could end an attribute or start markup, as swift-mustache escapes them.
public enum HTML {
    public static func escape(_ text: String) -> String {
        // Read as one block of bytes: through the UTF-8 view's iterator, the usual value with
        // nothing to escape took longer to look at than to copy.
        var contiguous = text
        let special = contiguous.withUTF8 { bytes in bytes.contains { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 } }
        guard special else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
