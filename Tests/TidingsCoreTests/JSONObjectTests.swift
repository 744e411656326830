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
        let pool = ["a", "b", "id", "data", "type", "ab", "", "z", "é", "e\u{301}", "😀", "B"]
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
}
