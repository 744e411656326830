import Foundation
import Testing
@testable import TidingsCore

/// The hand-written parser and writer against Foundation, which they replaced: stored event
/// bodies must keep their exact bytes, and requests must be accepted or refused as before.
@Suite("JSON parser and writer")
struct JSONParserTests {
    static func foundationParse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static func foundationEncode(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { Array($0) } ?? Array("null".utf8)
    }

    /// Equality that tells -0 from 0 and canonically equivalent keys apart, unlike `==`.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in
                guard let index = y.index(forKey: key) else { return false }
                return y[index].key.utf8.elementsEqual(key.utf8) && same(value, y[index].value)
            }
        default: return false
        }
    }

    /// Both parsers accept with the same value, or both refuse.
    static func agree(_ text: String) -> Bool {
        agree(Array(text.utf8))
    }

    static func agree(_ bytes: [UInt8]) -> Bool {
        switch (foundationParse(bytes), try? JSONValue.parse(bytes)) {
        case (nil, nil): return true
        case (let old?, let new?): return same(old, new)
        default: return false
        }
    }

    @Test func parsesEachKindOfValue() throws {
        let json = try JSONValue.parse(Array(#" {"a": [1, -2.5e1, true, false, null], "b": "x\"y\u00e9\ud83d\ude00", "c": {}} "#.utf8))
        #expect(json == ["a": [1, -25, true, false, nil], "b": "x\"yé😀", "c": [:]])
        #expect(try JSONValue.parse(Data("\"s\"".utf8)) == "s")
        #expect(try JSONValue.parse(Array("[12,3]".utf8)[1..<3]) == 12)
        #expect(try JSONValue.parse(Array("\u{FEFF}[]".utf8)) == [])
    }

    static let tricky = [
        "0", "-0", "1.5", "-0.0", "1E5", "1e+5", "1e-5", "0.1e1", "0e0", "0e10", "0e400", "-0e999", "1e400", "-1e400", "1e-400",
        "1e-330", "3e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623158e308",
        "1.7976931348623159e308", "9007199254740993", "18446744073709551616", "123456789012345678901234567890",
        "0.30000000000000004", "2.2250738585072011e-308", "1.00000000000000011102230246251565404236316680908203125",
        "1e23", "12345678901234567e-1", "01", "-01", "-", "1.", ".1", "1e", "1e+", "+1", "0x10", "NaN", "Infinity",
        #""\ud83d\ude00""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\udc00\ud800""#, #""\u12""#, #""\x""#,
        #""\/\b\f\n\r\t\\\"""#, #""\u0000""#, "\"a\tb\"", "\"\u{7f}\"", "\"\u{2028}\"", "\"abc",
        "[]", "{}", "[1 2]", "[,1]", "[1,,2]", "{\"a\"}", "{\"a\":}", "{1:2}", "{'a':1}", "{\"a\":1 \"b\":2}",
        #"{"a":1,"a":2}"#, #"{"a":{"b":1},"a":2}"#, #"{"e\u0301":1,"\u00e9":2}"#, #"{"\u00e9":1,"e\u0301":2}"#,
        " 1 ", "\t\r\n[\t\r\n1\t\r\n]\t\r\n", "1 x", "[1] x", "{} {}", "nul", "truex", "True", "", " ", "\u{FEFF}1",
        "\u{a0}1", "/* c */1", "[-]", "[01]", "[.5]",
    ]

    @Test(arguments: tricky)
    func agreesWithJSONDecoder(_ text: String) {
        #expect(Self.agree(text))
    }

    @Test func agreesWithJSONDecoderOnMalformedUTF8() {
        let strings: [[UInt8]] = [
            [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xE0, 0x80, 0x80], [0xC3], [0x80], [0xF0, 0x9F, 0x98], [0xC3, 0x5C, 0x6E], [0x5C, 0x6E, 0xA9],
            [0xC3, 0xA9], [0xE0, 0xA0, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xEF, 0xBF, 0xBF],
        ]
        for content in strings {
            #expect(Self.agree([0x22] + content + [0x22]), "\(content)")
            #expect(Self.agree(Array(#"{""#.utf8) + content + Array(#"":1}"#.utf8)), "key \(content)")
        }
    }

    @Test func keepsTheFirstOfDuplicateKeys() throws {
        #expect(try JSONValue.parse(Array(#"{"a":1,"b":2,"a":3}"#.utf8)) == ["a": 1, "b": 2])
    }

    @Test func refusesWhatRFC8259Refuses() {
        for text in ["[1,]", #"{"a":1,}"#, "[", "{", "\"\\u00\"", "\"\u{1}\"", "-a", "1e+x", "[1]]", "tru"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parse(Array(text.utf8)) }
        }
    }

    @Test func readsZeroWithAnyExponent() throws {
        // JSONDecoder refuses some of these (its underflow check misreads "0e9"); they are valid JSON.
        for text in ["0e9", "0E1", "-0.0E8", "0.00e9"] {
            let value = try JSONValue.parse(Array(text.utf8))
            #expect(value.numberValue == 0)
        }
    }

    @Test func reportsWhereTheDocumentBroke() {
        #expect(throws: JSONParseError(offset: 6, reason: "expected ',' or ']'")) { try JSONValue.parse(Array("[1, 2 3]".utf8)) }
        #expect(throws: JSONParseError(offset: 3, reason: "leading zero in number")) { try JSONValue.parse(Array("[-01]".utf8)) }
    }

    @Test func limitsNestingLikeJSONDecoder() throws {
        func nested(_ depth: Int) -> [UInt8] {
            Array((String(repeating: #"[{"k":"#, count: depth / 2) + "[]" + String(repeating: "}]", count: depth / 2)).utf8)
        }
        #expect(try JSONValue.parse(nested(511)).kindName == "array")
        #expect(throws: JSONParseError.self) { try JSONValue.parse(nested(513)) }
        #expect(Self.agree(nested(511)) && Self.agree(nested(513)))
        #expect(throws: JSONParseError.self) { try JSONValue.parse([UInt8](repeating: UInt8(ascii: "["), count: 100_000)) }
    }

    @Test func writesTheSameBytesAsJSONEncoder() throws {
        var controls = ""
        for byte in 0..<0x80 as Range<UInt8> { controls.unicodeScalars.append(Unicode.Scalar(byte)) }
        var keys: JSONObject = [:]
        for key in ["", "_", "A", "Z", "a", "a10", "a9", "aB", "ab", "é", "e\u{301}", "o\u{308}", "p", "ÿ", "😀", "\u{FFFF}", "~", "0", " ", "\t"] {
            keys[key] = .number(Double(keys.count))
        }
        let values: [JSONValue] = [
            .string(controls + "\u{2028}\u{2029}é😀/"), .object(keys), [1.0, -0.0, 0.1, 1e21, 1e-7, 1e15, 1e16, 1.2345678901234568e20, .number(.leastNonzeroMagnitude)],
            [.number(.greatestFiniteMagnitude), .number(-1.5), .number(2.5e-8), .number(9_007_199_254_740_992)], [:], [],
        ]
        for value in values {
            #expect(try value.encodedBytes() == Self.foundationEncode(value), "\(value)")
        }
        #expect(try JSONValue.object(keys).encoded() == Data(Self.foundationEncode(.object(keys))))
    }

    /// Keys that share long prefixes, are prefixes of each other or hold NUL bytes come in
    /// Foundation's order (by their UTF-8 bytes), whatever shortcut the sort takes.
    @Test func keysSharingTheirFirstBytesSortAsFoundationSortsThem() throws {
        var random = SplitMix64(seed: 8)
        let pieces = ["", "\u{0}", "a", "ab", "abcdefgh", "abcdefg", "z", "é", "😀", "customer", "customer_id", "\u{7F}", "A"]
        for _ in 0..<500 {
            var object: JSONObject = [:]
            for index in 0..<Int(random.next() % 12) {
                let key = (0..<Int(random.next() % 4)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
                object[key] = .number(Double(index))
            }
            #expect(try JSONValue.object(object).encodedBytes() == Self.foundationEncode(.object(object)), "\(object.keys.sorted())")
        }
    }

    /// One depth limit for reading and writing: what the parser takes, the writer writes back;
    /// NaN, infinities and anything deeper are errors, never a silent `null`.
    @Test func writesWhatItReadsAndRefusesWhatHasNoJSONForm() throws {
        func nested(_ depth: Int) -> JSONValue {
            var value: JSONValue = []
            for _ in 1..<depth { value = [value] }
            return value
        }
        let deepest = nested(JSONValue.maximumDepth)
        let written = try deepest.encodedBytes()
        #expect(try JSONValue.parse(written) == deepest)
        #expect(deepest.depth == JSONValue.maximumDepth)
        #expect(throws: JSONValue.EncodingError.self) { try nested(JSONValue.maximumDepth + 1).encodedBytes() }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(("[" + String(repeating: "[", count: JSONValue.maximumDepth) + "]" + String(repeating: "]", count: JSONValue.maximumDepth)).utf8)) }
        for value: JSONValue in [.number(.nan), [.number(.infinity)], ["a": .number(-.infinity)]] {
            #expect(throws: JSONValue.EncodingError.self) { try value.encodedBytes() }
        }
    }

    /// The validator's early-exit depth check agrees with `depth` at every limit.
    @Test func nestingCheckAgreesWithDepth() {
        var random = SplitMix64(seed: 3232)
        for _ in 0..<300 {
            let value = Self.randomValue(&random, depth: 0)
            for limit in 0...6 {
                #expect(value.nests(deeperThan: limit) == (value.depth > limit), "\(value) at \(limit)")
            }
        }
        let deep: JSONValue = ["a": [["b": [1]]], "c": 2]
        #expect(deep.depth == 4)
        #expect(deep.nests(deeperThan: 3))
        #expect(!deep.nests(deeperThan: 4))
    }

    @Test func randomDocumentsMatchFoundation() throws {
        var random = SplitMix64(seed: 2026)
        for _ in 0..<300 {
            let value = Self.randomValue(&random, depth: 0)
            let expected = Self.foundationEncode(value)
            #expect(try value.encodedBytes() == expected)
            let parsed = try JSONValue.parse(expected)
            #expect(Self.same(parsed, value))
            #expect(Self.agree(expected))
        }
    }

    @Test func randomNumbersMatchFoundation() throws {
        var random = SplitMix64(seed: 8259)
        for _ in 0..<2_000 {
            let value = JSONValue.number(Self.randomDouble(&random))
            #expect(try value.encodedBytes() == Self.foundationEncode(value))
            var text = random.next(below: 2) == 0 ? "-" : ""
            text += String(random.next(below: 9) + 1)
            for _ in 0..<random.next(below: 25) { text += String(random.next(below: 10)) }
            if random.next(below: 2) == 0 {
                text += "."
                for _ in 0...random.next(below: 25) { text += String(random.next(below: 10)) }
            }
            if random.next(below: 2) == 0 { text += ["e", "E-", "e+", "e-"][random.next(below: 4)] + String(random.next(below: 340)) }
            #expect(Self.agree(text), "\(text)")
        }
    }

    // MARK: Generators

    static let constants: [JSONValue] = [.null, true, false]
    static let keyPool = ["", "a", "A", "_", "a10", "a9", "é", "e\u{301}", "😀", "id", "type", "data", "\u{1}", "\"", "/"]

    static func randomString(_ random: inout SplitMix64) -> String {
        var text = ""
        for _ in 0..<random.next(below: 10) {
            switch random.next(below: 8) {
            case 0: text.unicodeScalars.append(Unicode.Scalar(UInt8(random.next(below: 0x20))))
            case 1: text += ["\"", "\\", "/", "\u{7f}", "\u{2028}", "\u{301}"][random.next(below: 6)]
            case 2: text.unicodeScalars.append(Unicode.Scalar(UInt32(0x80 + random.next(below: 0xD000))) ?? "x")
            case 3: text.unicodeScalars.append(Unicode.Scalar(UInt32(0x10000 + random.next(below: 0x100000))) ?? "x")
            default: text.unicodeScalars.append(Unicode.Scalar(UInt8(0x20 + random.next(below: 0x5F))))
            }
        }
        return text
    }

    static func randomDouble(_ random: inout SplitMix64) -> Double {
        switch random.next(below: 5) {
        case 0: return Double(random.next(below: 2_000_001)) - 1_000_000
        case 1: return (Double(random.next(below: 200_000)) - 100_000) / 1000
        case 2: return Double(sign: random.next(below: 2) == 0 ? .plus : .minus, exponent: random.next(below: 2098) - 1074,
                              significand: 1 + Double(random.next(below: 1 << 52)) / Double(1 << 52))
        case 3: return [0, -0.0, 1e15, 1e16, 1e21, 1e-7, 0.1, .leastNonzeroMagnitude, 2.5, 9_007_199_254_740_992][random.next(below: 10)]
        default: return Double(random.next(below: 1 << 62)) * (random.next(below: 2) == 0 ? 1 : -1)
        }
    }

    static func randomValue(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        switch random.next(below: depth > 4 ? 4 : 6) {
        case 0: return constants[random.next(below: 3)]
        case 1: return .number(randomDouble(&random))
        case 2, 3: return .string(randomString(&random))
        case 4: return .array((0..<random.next(below: 5)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object: JSONObject = [:]
            for _ in 0..<random.next(below: 6) {
                let key = random.next(below: 2) == 0 ? keyPool[random.next(below: keyPool.count)] : randomString(&random)
                object[key] = randomValue(&random, depth: depth + 1)
            }
            return .object(object)
        }
    }

    /// A small seeded generator, so the random documents are the same on every run.
    struct SplitMix64 {
        var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func next(below bound: Int) -> Int {
            Int(next() % UInt64(bound))
        }
    }
}

extension JSONValue {
    /// How deep its arrays and objects nest (a scalar is 0, `[]` is 1), measured in full: what
    /// `nests(deeperThan:)` must agree with.
    var depth: Int {
        switch self {
        case .array(let items): return 1 + (items.lazy.map(\.depth).max() ?? 0)
        case .object(let fields): return 1 + (fields.values.lazy.map(\.depth).max() ?? 0)
        default: return 0
        }
    }
}
