/// Why a document is not JSON, and the byte offset where the parser gave up.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes, written for the event hot path: `JSONDecoder`
/// builds an intermediate map and `JSONValue`'s `Decodable` conformance then probes each value
/// with several failing `decode` calls, which costs tens of microseconds per event.
///
/// It accepts what `JSONDecoder` accepts, with the same values (duplicate keys: the first one
/// wins; numbers through the same correctly rounded conversion; out-of-range numbers refused),
/// except that it is stricter in two places: trailing commas (`[1,]`) and UTF-16/32 input are
/// refused. A leading UTF-8 byte order mark is skipped, as `JSONDecoder` does.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    /// Elements and members of the open containers, shared so each container is built at its exact size.
    private var elements: [JSONValue] = []
    private var members: [JSONObject.Member] = []
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []
    /// Whether the last string read was plain ASCII (false when unsure): an object whose keys
    /// all are skips `JSONObject`'s check for other spellings of one key.
    private var lastStringWasASCII = false

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.position = 3 }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected data after the document") }
        return value
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try bytes.withMemoryRebound(to: UInt8.self) { buffer throws(JSONParseError) in try parse(buffer) }
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    private mutating func expect(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw error("unexpected end of input") }
        for i in 0..<count where bytes[position + i] != literal.utf8Start[i] {
            position += i
            throw error("invalid literal")
        }
        position += count
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= JSONValue.maximumDepth else { throw error("more than \(JSONValue.maximumDepth) nested arrays or objects") }
        position += 1
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array([])
        }
        let base = elements.count
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated array") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "]") { break }
            guard byte == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or ']'") }
        }
        let array = Array(elements[base...])
        elements.removeSubrange(base...)
        depth -= 1
        return .array(array)
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object([:])
        }
        let base = members.count
        var asciiKeys = true
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            asciiKeys = asciiKeys && lastStringWasASCII
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            members.append((key, try parseValue()))
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated object") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "}") { break }
            guard byte == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or '}'") }
        }
        // The first of duplicate keys wins (its key and its value), as with JSONDecoder.
        let object = JSONObject(unsorted: members[base...], asciiKeys: asciiKeys)
        members.removeSubrange(base...)
        depth -= 1
        return .object(object)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: position, reason: reason)
    }

    // MARK: Strings

    /// Reads a string at the opening quote; strings without escapes become a `String` straight from the input.
    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        let start = position
        var seen: UInt8 = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try makeString(UnsafeBufferPointer(rebasing: bytes[start..<position]), ascii: seen < 0x80, at: start)
                lastStringWasASCII = seen < 0x80
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") {
                lastStringWasASCII = false
                return try parseEscapedString(from: start)
            }
            guard byte >= 0x20 else { throw error("unescaped control character in string") }
            seen |= byte
            position += 1
        }
        throw error("unterminated string")
    }

    private func makeString(_ utf8: UnsafeBufferPointer<UInt8>, ascii: Bool, at offset: Int) throws(JSONParseError) -> String {
        if ascii { return String(decoding: utf8, as: UTF8.self) }
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "invalid UTF-8 in string")
        }
        return text
    }

    /// The slow path: copies the string into `scratch`, decoding escapes, then validates it as a whole.
    private mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
                position += 1
                return try scratch.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                    try makeString(buffer, ascii: false, at: start)
                }
            }
            if byte == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
                try parseEscape()
                runStart = position
                continue
            }
            guard byte >= 0x20 else { throw error("unescaped control character in string") }
            position += 1
        }
        throw error("unterminated string")
    }

    /// Decodes one escape at the backslash into `scratch`.
    private mutating func parseEscape() throws(JSONParseError) {
        guard position + 1 < bytes.count else { throw error("unterminated string") }
        let escaped = bytes[position + 1]
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            try parseUnicodeEscape()
            return
        default: throw error("invalid escape")
        }
        position += 2
    }

    /// `\uXXXX`, where a high surrogate must be followed by an escaped low one; lone surrogates
    /// are refused, as `JSONDecoder` does, since a Swift `String` cannot hold them.
    private mutating func parseUnicodeEscape() throws(JSONParseError) {
        let first = try hexQuad(at: position + 2)
        var scalarValue = UInt32(first)
        var length = 6
        switch first {
        case 0xD800...0xDBFF:
            guard position + 7 < bytes.count, bytes[position + 6] == UInt8(ascii: "\\"), bytes[position + 7] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in \\u escape") }
            let second = try hexQuad(at: position + 8)
            guard (0xDC00...0xDFFF).contains(second) else { throw error("unpaired surrogate in \\u escape") }
            scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            length = 12
        case 0xDC00...0xDFFF:
            throw error("unpaired surrogate in \\u escape")
        default:
            break
        }
        appendUTF8(scalarValue)
        position += length
    }

    /// Encodes a scalar value known to be valid (surrogates were paired above).
    private mutating func appendUTF8(_ value: UInt32) {
        switch value {
        case ..<0x80:
            scratch.append(UInt8(value))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | value >> 6))
            scratch.append(UInt8(0x80 | value & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | value >> 12))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | value >> 18))
            scratch.append(UInt8(0x80 | value >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        }
    }

    private func hexQuad(at offset: Int) throws(JSONParseError) -> UInt16 {
        guard offset + 4 <= bytes.count else { throw JSONParseError(offset: offset, reason: "unterminated \\u escape") }
        var value: UInt16 = 0
        for i in offset..<offset + 4 {
            let byte = bytes[i]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw JSONParseError(offset: i, reason: "invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    // MARK: Numbers

    /// Reads a number at its first byte. Short ones (at most 15 digits, small exponent) are
    /// exact in a `Double` and so is one multiplication or division by a power of ten, so they
    /// need no string; the rest go through `Double(String)`, the correctly rounded conversion
    /// `JSONDecoder` also gives. Like `JSONDecoder`, it refuses numbers that overflow to infinity
    /// or underflow to zero.
    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var nonZero = false

        guard position < bytes.count, isDigit(bytes[position]) else { throw error("expected a digit") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw error("leading zero in number") }
            digitCount = 1
        } else {
            readDigits(into: &mantissa, count: &digitCount, nonZero: &nonZero)
        }
        var fractionDigits = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("expected a digit after '.'") }
            let before = digitCount
            readDigits(into: &mantissa, count: &digitCount, nonZero: &nonZero)
            fractionDigits = digitCount - before
        }
        var exponent = 0
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var exponentNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("expected a digit in the exponent") }
            while position < bytes.count, isDigit(bytes[position]) {
                // Past this the fast path is out of reach anyway; the slow path reads the text.
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0")) }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        let power = exponent - fractionDigits
        if digitCount <= 15, (-22...22).contains(power) {
            let magnitude = power < 0 ? Double(mantissa) / Self.powersOfTen[-power] : Double(mantissa) * Self.powersOfTen[power]
            return negative ? -magnitude : magnitude
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite, value != 0 || !nonZero else {
            throw JSONParseError(offset: start, reason: "number out of range")
        }
        return value
    }

    /// Reads a run of digits, keeping the first 19 in `mantissa` (enough to judge the fast path).
    private mutating func readDigits(into mantissa: inout UInt64, count: inout Int, nonZero: inout Bool) {
        while position < bytes.count, isDigit(bytes[position]) {
            let digit = bytes[position] &- UInt8(ascii: "0")
            if digit != 0 { nonZero = true }
            if count < 19 { mantissa = mantissa &* 10 &+ UInt64(digit) }
            count += 1
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}
