#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON object's members, kept in the order the writer writes them (keys sorted by their
/// UTF-8 bytes) with each key once. Events, read models and template contexts are small
/// objects parsed, read and written on every event: as a `Dictionary` each key was hashed
/// (SipHash) on the way in and on every lookup, and the members were sorted again for each
/// write. Here the parser sorts once (stored documents come sorted already), a lookup is a
/// binary search over a few keys, and the writer writes the members as they are.
///
/// It behaves as `[String: JSONValue]` did: keys compare as `String`s do (canonically
/// equivalent spellings are one key; the first spelling stays), and objects with the same
/// members are equal whatever order the members came in. One whose keys are all ASCII, nearly
/// every one, never needs the slower comparisons that other spellings take.
public struct JSONObject: Sendable {
    public typealias Member = (key: String, value: JSONValue)

    /// Sorted by key bytes, keys unique.
    public private(set) var members: [Member]
    /// Whether a key may be non-ASCII (false only when none is): such a key may have another
    /// spelling, ASCII or not (U+212A KELVIN SIGN is `K`), that `String` calls the same.
    private var nonASCIIKeys = false

    public init() {
        members = []
    }

    /// Members in any order; of keys given twice, the first is kept (as the parser and
    /// `JSONDecoder` do).
    public init(unsorted: some Collection<Member>) {
        self.init(unsorted: unsorted, asciiKeys: false)
    }

    /// `asciiKeys`: the caller knows every key is ASCII (the parser saw their bytes), so no
    /// key has another spelling; false when unsure.
    init(unsorted: some Collection<Member>, asciiKeys: Bool) {
        members = Array(unsorted)
        nonASCIIKeys = !asciiKeys && members.contains(where: { !Self.isASCII($0.key) })
        if nonASCIIKeys {
            // Canonically equivalent spellings of one key differ in their bytes, and may even
            // come in byte order: the first in input order stays, as it did in a dictionary.
            var seen = Set<String>(minimumCapacity: members.count)
            members.removeAll { !seen.insert($0.key).inserted }
        }
        guard !Self.isSorted(members) else { return }
        if members.count <= 16 {
            // An event's or a context's few members: sorted in place, stably, so the first of
            // equal keys stays first.
            let kept = members.withUnsafeMutableBufferPointer { members in
                for end in 1..<members.count {
                    var index = end
                    while index > 0, Self.compare(members[index - 1].key, members[index].key) > 0 {
                        members.swapAt(index - 1, index)
                        index -= 1
                    }
                }
                var kept = 1
                for index in 1..<members.count where Self.compare(members[kept - 1].key, members[index].key) != 0 {
                    members.swapAt(kept, index)
                    kept += 1
                }
                return kept
            }
            members.removeSubrange(kept...)
            return
        }
        // Ties broken by input order, so that of equal keys the first stays first whatever
        // the sort: stable by construction, and O(n log n) however many keys a document has.
        var order = Array(members.indices)
        order.sort { a, b in
            let comparison = Self.compare(members[a].key, members[b].key)
            return comparison != 0 ? comparison < 0 : a < b
        }
        var sorted: [Member] = []
        sorted.reserveCapacity(members.count)
        for index in order where sorted.last.map({ Self.compare($0.key, members[index].key) != 0 }) ?? true {
            sorted.append(members[index])
        }
        members = sorted
    }

    public init(_ dictionary: [String: JSONValue]) {
        self.init(unsorted: dictionary.map { ($0.key, $0.value) })
    }

    /// The members as a dictionary, for code that wants one (Codable, Mustache).
    public var dictionary: [String: JSONValue] {
        Dictionary(members.lazy.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: LazyMapSequence<[Member], String> { members.lazy.map(\.key) }
    public var values: LazyMapSequence<[Member], JSONValue> { members.lazy.map(\.value) }

    public subscript(key: String) -> JSONValue? {
        get {
            // Not `found ? value : nil`: JSONValue takes a nil literal, so that is `.null`.
            let place = search(key)
            guard place.found else { return .none }
            return members[place.index].value
        }
        set {
            let place = search(key)
            switch (place.found, newValue) {
            case (true, let value?): members[place.index].value = value
            case (true, .none): members.remove(at: place.index)
            case (false, let value?):
                members.insert((key, value), at: place.index)
                if !Self.isASCII(key) { nonASCIIKeys = true }
            case (false, .none): break
            }
        }
    }

    public func index(forKey key: String) -> Int? {
        let place = search(key)
        return place.found ? place.index : nil
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let place = search(key)
        guard place.found else { return .none }
        return members.remove(at: place.index).value
    }

    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var mapped = self
        for index in mapped.members.indices { mapped.members[index].value = try transform(mapped.members[index].value) }
        return mapped
    }

    /// Each member's new value, or `.none` to leave it out: one pass, where removing members one
    /// by one would move the rest of the array each time. (`cond ? value : nil` is `.null`, not
    /// `.none`: `JSONValue` takes a nil literal.)
    public func compactMapMembers(_ transform: (Member) throws -> JSONValue?) rethrows -> JSONObject {
        var mapped = self
        mapped.members = try members.compactMap { member in try transform(member).map { (member.key, $0) } }
        return mapped
    }

    /// Where `key` is, or where it would go.
    private func search(_ key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            let comparison = Self.compare(members[middle].key, key)
            if comparison == 0 { return (middle, true) }
            if comparison < 0 { low = middle + 1 } else { high = middle }
        }
        // Another spelling of a key is the same key, as it was in a dictionary.
        if nonASCIIKeys || !Self.isASCII(key), let index = members.firstIndex(where: { $0.key == key }) {
            return (index, true)
        }
        return (low, false)
    }

    static func isASCII(_ key: String) -> Bool {
        key.utf8.allSatisfy { $0 < 0x80 }
    }

    static func isSorted(_ members: [Member]) -> Bool {
        guard members.count > 1 else { return true }
        for index in 1..<members.count where compare(members[index - 1].key, members[index].key) >= 0 { return false }
        return true
    }

    /// Keys by their UTF-8 bytes (swift-foundation's sorted keys; `String`'s `<` compares
    /// normalized forms), on the strings' own contiguous storage (a small string's on the
    /// stack), without copying either string.
    static func compare(_ a: String, _ b: String) -> Int {
        let order = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) }
        }
        if let order = order ?? nil { return order }
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in compare(x, y) } }
    }

    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let common = Swift.min(x.count, y.count)
        // Keys mostly differ in their first bytes: a loop ends there, a call to `memcmp` cost more.
        if common <= 32 {
            for index in 0..<common where x[index] != y[index] { return Int(x[index]) - Int(y[index]) }
        } else if let p = x.baseAddress, let q = y.baseAddress {
            let order = memcmp(p, q, common)
            if order != 0 { return Int(order) }
        }
        return x.count - y.count
    }
}

extension JSONObject: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { members.count }
    public subscript(position: Int) -> Member { members[position] }
}

extension JSONObject: Hashable {
    /// Member by member when all keys are ASCII; otherwise by looking each up, since other
    /// spellings of a key sort to other places.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        if !lhs.nonASCIIKeys && !rhs.nonASCIIKeys {
            return zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }
        return lhs.members.allSatisfy { member in rhs[member.key] == member.value }
    }

    /// Independent of the members' order, as `==` is.
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for member in members {
            var one = Hasher()
            one.combine(member.key)
            one.combine(member.value)
            sum &+= one.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(literal: elements)
    }

    /// A literal's members (this one's, or `JSONValue`'s). Of keys given twice, the last is
    /// kept, as `Dictionary(uniquingKeysWith:)` did (given in reverse, the first is kept). No
    /// dictionary on the way: a sealed field's `{"sealed": …}` is one of these.
    init(literal elements: [(String, JSONValue)]) {
        self.init(unsorted: elements.reversed().map { (key: $0.0, value: $0.1) })
    }
}
