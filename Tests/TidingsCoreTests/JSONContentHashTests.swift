import Foundation
import Testing
@testable import TidingsCore

/// `contentHash` stands for the canonical bytes: `tidings append` compares an event seen twice
/// in a file by it when it does not write those bytes.
@Suite("A value's content hash")
struct JSONContentHashTests {
    typealias Random = JSONParserTests.SplitMix64

    /// Equal bytes, equal hashes; other bytes, other hashes. Pairs are a random value with itself
    /// rebuilt in another member order, and with one change somewhere inside.
    @Test func hashesAgreeWithTheCanonicalBytes() throws {
        var random = Random(seed: 4711)
        for _ in 0..<2_000 {
            let value = JSONParserTests.randomValue(&random, depth: 0)
            let rebuilt = Self.rebuilt(value)
            #expect(try rebuilt.encodedBytes() == value.encodedBytes())
            #expect(rebuilt.contentHash == value.contentHash)
            let changed = Self.changed(value, &random)
            #expect((try changed.encodedBytes() == value.encodedBytes()) == (changed.contentHash == value.contentHash))
        }
    }

    @Test func valuesThatCompareEqualButWriteOtherwiseHashOtherwise() {
        #expect(JSONValue.number(0).contentHash != JSONValue.number(-0.0).contentHash)
        #expect(JSONValue.string("\u{e9}").contentHash != JSONValue.string("e\u{301}").contentHash)
        #expect(JSONValue.object(["\u{e9}": 1]).contentHash != JSONValue.object(["e\u{301}": 1]).contentHash)
        #expect(JSONValue.array(["ab", "c"]).contentHash != JSONValue.array(["a", "bc"]).contentHash)
        #expect(JSONValue.object(["a": ["b": 1]]).contentHash != JSONValue.object(["a": [:], "b": 1]).contentHash)
        #expect(JSONValue.null.contentHash != JSONValue.array([]).contentHash)
    }

    /// The same value with every object's members inserted in reverse order.
    static func rebuilt(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(rebuilt))
        case .object(let fields):
            var copy: JSONObject = [:]
            for key in fields.keys.sorted().reversed() { copy[key] = rebuilt(fields[key] ?? .null) }
            return .object(copy)
        default: return value
        }
    }

    /// The value with one scalar, member or element changed, added or taken away (or, rarely,
    /// the same again: then the hashes must still agree).
    static func changed(_ value: JSONValue, _ random: inout Random) -> JSONValue {
        switch value {
        case .array(var items) where !items.isEmpty && random.next(below: 3) > 0:
            let index = random.next(below: items.count)
            items[index] = changed(items[index], &random)
            return .array(items)
        case .object(var fields) where !fields.isEmpty && random.next(below: 3) > 0:
            let key = fields.keys.sorted()[random.next(below: fields.count)]
            if random.next(below: 4) == 0 {
                fields[key] = nil
            } else {
                fields[key] = changed(fields[key] ?? .null, &random)
            }
            return .object(fields)
        default:
            return JSONParserTests.randomValue(&random, depth: 5)
        }
    }
}
