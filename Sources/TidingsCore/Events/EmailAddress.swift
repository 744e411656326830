/// Checks addresses that will reach an SMTP envelope or a header: anything that could smuggle
/// a CR, LF, angle bracket or a second address is refused rather than encoded.
public enum EmailAddress {
    public static func isValid(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, domain.contains(".") else { return false }
        let forbidden: Set<Character> = ["<", ">", "(", ")", "[", "]", "\\", ",", ";", ":", "\"", " ", "@"]
        for ch in text where ch.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) || (forbidden.contains(ch) && ch != "@") {
            return false
        }
        guard !local.contains("@"), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else { return false }
        return true
    }

    /// The part after the `@`, used to build Message-IDs.
    public static func domain(of text: String) -> String? {
        text.lastIndex(of: "@").map { String(text[text.index(after: $0)...]) }
    }
}
