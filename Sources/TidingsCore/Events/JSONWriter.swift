#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serializes a `JSONValue` to exactly the bytes `JSONEncoder` gives with
/// `[.sortedKeys, .withoutEscapingSlashes]`, so documents stored before and after the switch
/// stay byte-identical, without the encoder's intermediate tree and Codable round trip.
///
/// What it copies from swift-foundation: keys sorted by their UTF-8 bytes; numbers as
/// `Double.description` without a trailing `.0`; `"` `\` and control characters escaped
/// (`\b \f \n \r \t`, the rest as `\u00xx` in lower-case hex), everything else — `/`, DEL,
/// U+2028/2029, non-ASCII — written as is. It refuses NaN and infinities, as the encoder does,
/// and containers nested deeper than `JSONValue.maximumDepth`, the parser's own limit, so that
/// whatever the parser read can always be written back (`JSONEncoder` stops one level earlier).
struct JSONWriter {
    /// The value has no JSON form: NaN, an infinity, or nested too deep.
    struct Unencodable: Error {}

    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The serialized bytes, or nil for a value with no JSON form.
    static func serialize(_ value: JSONValue) -> [UInt8]? {
        var writer = JSONWriter()
        do {
            try writer.write(value, depth: 0)
        } catch {
            return nil
        }
        return writer.bytes
    }

    mutating func write(_ value: JSONValue, depth: Int) throws(Unencodable) {
        switch value {
        case .null: append("null")
        case .bool(let flag): flag ? append("true") : append("false")
        case .number(let number): try writeNumber(number)
        case .string(let text): writeString(text)
        case .array(let array):
            guard depth < JSONValue.maximumDepth else { throw Unencodable() }
            bytes.append(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                try write(element, depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            try writeObject(object.members, depth: depth)
        }
    }

    /// An object whose members are in key order already.
    private mutating func writeObject(_ members: [(key: String, value: JSONValue)], depth: Int) throws(Unencodable) {
        guard depth < JSONValue.maximumDepth else { throw Unencodable() }
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, member) in members {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            writeString(key)
            bytes.append(UInt8(ascii: ":"))
            try write(member, depth: depth + 1)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// An object of string members whose keys are in order already.
    mutating func writeObject(strings members: [(key: String, value: String)]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(member.key)
            bytes.append(UInt8(ascii: ":"))
            writeString(member.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func append(_ literal: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    // MARK: Numbers

    /// Integers below 10^15 print as their digits (`description` would add `.0`, which the
    /// encoder drops); everything else uses `description` as the encoder does.
    mutating func writeNumber(_ number: Double) throws(Unencodable) {
        guard number.isFinite else { throw Unencodable() }
        if number.rounded(.towardZero) == number, number.magnitude < 1e15 {
            if number == 0 {
                number.sign == .minus ? append("-0") : append("0")
            } else {
                writeInteger(Int64(number))
            }
            return
        }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func writeInteger(_ integer: Int64) {
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = integer.magnitude
        var digits: (UInt64, UInt8) = (0, 0)  // up to 16 digits, packed little-endian, and their count
        repeat {
            digits.0 = digits.0 << 4 | magnitude % 10
            digits.1 += 1
            magnitude /= 10
        } while magnitude > 0
        for _ in 0..<digits.1 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: digits.0 & 0xF))
            digits.0 >>= 4
        }
    }

    // MARK: Strings

    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Most strings need no escape: one copy.
            guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    append("u00")
                    bytes.append(Self.hexDigit(byte >> 4))
                    bytes.append(Self.hexDigit(byte & 0xF))
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
