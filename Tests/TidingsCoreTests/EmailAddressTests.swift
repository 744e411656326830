import Testing
@testable import TidingsCore

@Suite("Email addresses")
struct EmailAddressTests {
    /// The rules as they were first written, on characters: the byte reading must agree on
    /// every ASCII address.
    static func reference(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, domain.contains(".") else { return false }
        let forbidden: Set<Character> = ["<", ">", "(", ")", "[", "]", "\\", ",", ";", ":", "\"", " ", "@"]
        for ch in text where ch.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) || (forbidden.contains(ch) && ch != "@") {
            return false
        }
        return !local.contains("@") && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("..")
    }

    @Test func agreesWithTheCharacterRulesOnRandomASCII() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab.@.@<> \r\n\u{7F}\"(),;:[]\\-_+1".unicodeScalars)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            var text = String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
            if Bool.random(using: &generator) { text = "ann" + text + "@example.com" }
            #expect(EmailAddress.isValid(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }

    @Test func acceptsAndRefuses() {
        for good in ["ann@example.com", "a.b+tag@mail.example.co.uk", "josé@exämple.com", "\(String(repeating: "a", count: 64))@x.io"] {
            #expect(EmailAddress.isValid(good), "\(good)")
        }
        for bad in ["", "@example.com", "ann@", "ann@example", "ann@.example.com", "ann@example.com.", "ann@example..com",
                    "a@b@example.com", "ann @example.com", "ann@example.com\r\nBcc: x@y.z", "<ann>@example.com",
                    "ann<\u{301}@example.com", "\(String(repeating: "a", count: 65))@x.io"] {
            #expect(!EmailAddress.isValid(bad), "\(bad.debugDescription)")
        }
    }
}
