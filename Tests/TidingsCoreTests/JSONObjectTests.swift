import Foundation
import Testing

@testable import TidingsCore

/// `JSONObject` keeps its members sorted for the writer; it must still behave as the
/// `[String: JSONValue]` it replaced.
@Suite("JSON objects")
struct JSONObjectTests {
    /// Random sets, removals and lookups, against a dictionary doing the same.
    @Test func behavesAsADictionary() {
        var random = JSONParserTests.SplitMix64(seed: 1955)
        let pool = ["a", "b", "id", "data", "type", "ab", "", "z", "é", "e\u{301}", "😀", "B", "K", "\u{212A}"]
        for _ in 0..<200 {
            var object = JSONObject()
            var model: [String: JSONValue] = [:]
            for _ in 0..<random.next(below: 40) {
                let key = pool[random.next(below: pool.count)]
                switch random.next(below: 4) {
                case 0:
                    object[key] = nil
                    model[key] = nil
                case 1:
                    #expect(object.removeValue(forKey: key) == model.removeValue(forKey: key))
                default:
                    let value = JSONValue.number(Double(random.next(below: 100)))
                    object[key] = value
                    model[key] = value
                }
                #expect(object.count == model.count)
                for probe in pool { #expect(object[probe] == model[probe], "\(probe)") }
            }
            #expect(object == JSONObject(model))
            #expect(object.hashValue == JSONObject(model).hashValue)
            #expect(JSONObject.isSorted(object.members))
        }
    }

    /// Members in any order give one object, sorted by their UTF-8 bytes, the first of keys
    /// given twice kept (byte for byte, or spelled another way in Unicode).
    @Test func sortsOnceAndKeepsTheFirstOfDuplicates() {
        let given: [JSONObject.Member] = [("type", "t"), ("id", 1), ("B", true), ("id", 2), ("a", nil)]
        let object = JSONObject(unsorted: given)
        #expect(object.members.map(\.key) == ["B", "a", "id", "type"])
        #expect(object["id"] == 1)
        let spellings: [JSONObject.Member] = [("e\u{301}", 1), ("x", 0), ("\u{e9}", 2)]
        let unicode = JSONObject(unsorted: spellings)
        #expect(unicode.count == 2)
        #expect(unicode["\u{e9}"] == 1)
        #expect(unicode.members.first.map { Array($0.key.utf8) } == Array("e\u{301}".utf8))
        var reversed: [JSONObject.Member] = []
        for index in (0..<5_000).reversed() { reversed.append((key: "k\(index)", value: .number(Double(index)))) }
        let many = JSONObject(unsorted: reversed + [(key: "k7", value: "again")])
        #expect(many.count == 5_000)
        #expect(many["k7"] == 7)
        #expect(JSONObject.isSorted(many.members))
    }

    /// Equal whatever order the members came in; the writer writes them as they stand.
    @Test func equalObjectsWriteTheSameBytes() throws {
        let members: [JSONObject.Member] = [("b", 1), ("a", [2]), ("c", ["d": 3])]
        let forward = JSONObject(unsorted: members)
        let backward = JSONObject(unsorted: members.reversed())
        #expect(forward == backward)
        #expect(forward.hashValue == backward.hashValue)
        #expect(try JSONValue.object(forward).encodedString() == #"{"a":[2],"b":1,"c":{"d":3}}"#)
        #expect(try JSONValue.parse(Array(#"{"c":{"d":3},"b":1,"a":[2]}"#.utf8)) == .object(forward))
    }

    /// Another spelling of a key is the key, even an ASCII one (U+212A KELVIN SIGN is `K`), and
    /// equality and hashing do not depend on where the spellings sort.
    @Test func otherSpellingsAreTheSameKey() throws {
        var kelvin = JSONObject(unsorted: [(key: "\u{212A}", value: 1)])
        #expect(kelvin["K"] == 1)
        kelvin["K"] = 2
        #expect(kelvin.count == 1)
        #expect(kelvin["\u{212A}"] == 2)
        let parsed = try JSONValue.parse(Array("{\"\u{212A}\":1}".utf8))
        #expect(parsed["K"] == 1)
        let composed = JSONObject(unsorted: [(key: "\u{e9}", value: 1), (key: "f", value: 2)])
        let decomposed = JSONObject(unsorted: [(key: "e\u{301}", value: 1), (key: "f", value: 2)])
        #expect(composed.members.map(\.key) != decomposed.members.map(\.key))
        #expect(composed == decomposed)
        #expect(composed.hashValue == decomposed.hashValue)
        #expect(JSONObject(unsorted: [(key: "K", value: 1)]) == kelvin.mapValues { _ in 1 })
    }

    /// Leaving members out is one pass, in order.
    @Test func compactMapMembersKeepsOrderAndLeavesOut() {
        var members: [JSONObject.Member] = []
        for index in 0..<10_000 { members.append((key: "k\(index)", value: .number(Double(index)))) }
        let object = JSONObject(unsorted: members)
        let kept = object.compactMapMembers { $0.key.hasSuffix("7") ? $0.value : .none }
        #expect(kept.count == 1_000)
        #expect(JSONObject.isSorted(kept.members))
        #expect(kept["k17"] == 17)
        #expect(kept["k18"] == nil)
    }
}
