#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the members of a JSON object in its bytes without building them: where each key and
/// value lies. It checks the structure it walks (quotes, separators, that containers close) but
/// not what is inside a value: `JSONParser` parses a value, strictly, when it is read
/// (`FieldReader`). Anything it cannot walk gives nil.
enum MemberScan {
    struct Member {
        /// The key's bytes, between its quotes.
        var key: Range<Int>
        /// Whether the key has an escape (then it is decoded to be compared).
        var escaped: Bool
        var value: Range<Int>
    }

    /// The members of a whole document that is one object.
    static func document(_ bytes: UnsafeBufferPointer<UInt8>) -> [Member]? {
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        guard let (members, end) = object(bytes, at: skipSpace(bytes, start)), skipSpace(bytes, end) == bytes.count else { return nil }
        return members
    }

    /// The members of the object that opens at `start`.
    static func members(of bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> [Member]? {
        object(bytes, at: start)?.members
    }

    /// Where each element of the array that opens at `start` begins.
    static func elements(of bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> [Int]? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "[") else { return nil }
        var i = skipSpace(bytes, start + 1)
        var starts: [Int] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { return starts }
        while true {
            guard let end = valueEnd(bytes, i) else { return nil }
            starts.append(i)
            i = skipSpace(bytes, end)
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "]") { return starts }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i = skipSpace(bytes, i + 1)
        }
    }

    /// The first member named `key` (the first of duplicates wins, as in `JSONParser`).
    static func find(_ key: String, in members: [Member], of document: [UInt8]) -> Member? {
        var key = key
        return key.withUTF8 { wanted in
            document.withUnsafeBufferPointer { bytes -> Member? in
                for member in members {
                    if member.escaped {
                        let quoted = UnsafeBufferPointer(rebasing: bytes[(member.key.lowerBound - 1)..<(member.key.upperBound + 1)])
                        if case .string(let text)? = try? JSONParser.parse(quoted), text.utf8.elementsEqual(wanted) { return member }
                    } else if member.key.count == wanted.count,
                              wanted.isEmpty || memcmp(bytes.baseAddress! + member.key.lowerBound, wanted.baseAddress!, wanted.count) == 0 {
                        return member
                    }
                }
                return nil
            }
        }
    }

    static func isNull(_ value: Range<Int>, in document: [UInt8]) -> Bool {
        value.count == 4 && document[value].elementsEqual("null".utf8)
    }

    private static func object(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (members: [Member], end: Int)? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "{") else { return nil }
        var i = skipSpace(bytes, start + 1)
        var members: [Member] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { return (members, i + 1) }
        while true {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let (keyEnd, escaped) = stringEnd(bytes, i) else { return nil }
            let key = (i + 1)..<(keyEnd - 1)
            i = skipSpace(bytes, keyEnd)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(bytes, i + 1)
            guard let end = valueEnd(bytes, i) else { return nil }
            members.append(Member(key: key, escaped: escaped, value: i..<end))
            i = skipSpace(bytes, end)
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "}") { return (members, i + 1) }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i = skipSpace(bytes, i + 1)
        }
    }

    /// Just past the closing quote of the string that opens at `start`, and whether it has escapes.
    private static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> (end: Int, escaped: Bool)? {
        var i = start + 1
        var escaped = false
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""): return (i + 1, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                i += 2
            default: i += 1
            }
        }
        return nil
    }

    /// Just past the value that starts at `start`: a string, a whole container, or a number or
    /// literal up to the next separator.
    private static func valueEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, start)?.end
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, i)?.end else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = start
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return i > start ? i : nil
                default: i += 1
                }
            }
            return i > start ? i : nil
        }
    }

    private static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return i
            }
        }
        return i
    }
}
