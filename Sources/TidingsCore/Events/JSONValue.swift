import Foundation

/// A JSON document as a value: events carry free-form `data`, and the read models and template
/// contexts are stored and rendered from it, so it must be Sendable, Hashable and Codable.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A field of an object; setting one on anything but an object does nothing.
    public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let fields) = self { return fields[key] }
            return nil
        }
        set {
            guard case .object(var fields) = self else { return }
            // Let go of self's copy first, so the members are changed in place, not copied.
            self = .null
            fields[key] = newValue
            self = .object(fields)
        }
    }

    /// Looks up a dotted path such as `order.tracking.url`.
    public func value(atPath path: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in path.split(separator: ".") {
            current = current?[String(part)]
        }
        return current
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The value as text for comparisons in workflow conditions.
    public var textValue: String? {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        default: return nil
        }
    }

    /// A short name of the JSON kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(JSONObject(try container.decode([String: JSONValue].self)))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o.dictionary)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(literal: elements))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// The deepest nesting of arrays and objects that the parser reads and the writer writes
    /// (the top level counts as 1): one limit for both, so a stored document always writes back.
    /// `JSONDecoder` refuses more than 512 too; the limit also bounds recursion.
    public static let maximumDepth = 512

    /// A value with no JSON form: NaN, an infinity (computed, never parsed), or nested deeper
    /// than `maximumDepth`. Writing one is an error, never a silent `null`.
    public struct EncodingError: Error, Sendable, CustomStringConvertible {
        public var description: String {
            "the value has no JSON form (NaN, an infinity, or more than \(JSONValue.maximumDepth) nested arrays or objects)"
        }
    }

    /// Whether its arrays and objects nest more than `limit` levels (a scalar nests 0, `[]` 1),
    /// looking no deeper than that: asked of every event.
    public func nests(deeperThan limit: Int) -> Bool {
        switch self {
        case .array(let items):
            guard limit > 0 else { return true }
            for item in items where item.nests(deeperThan: limit - 1) { return true }
            return false
        case .object(let fields):
            guard limit > 0 else { return true }
            for field in fields where field.value.nests(deeperThan: limit - 1) { return true }
            return false
        default:
            return false
        }
    }

    /// Parses JSON bytes; numbers become doubles, objects keep their keys (the first of duplicates).
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try JSONParser.parse($0) }
    }

    /// Parses JSON bytes as they arrive in an HTTP body, without copying them into `Data`.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try JSONParser.parse($0) }
    }

    /// Parses part of a body, such as one NDJSON line.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try JSONParser.parse($0) }
    }

    /// Compact JSON with sorted keys, so stored documents are byte-stable: the same bytes
    /// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` gives.
    public func encoded() throws(EncodingError) -> Data {
        Data(try encodedBytes())
    }

    /// `encoded()` as bytes, for bodies that are sent as `[UInt8]`.
    public func encodedBytes() throws(EncodingError) -> [UInt8] {
        guard let bytes = JSONWriter.serialize(self) else { throw EncodingError() }
        return bytes
    }

    /// An object's `encodedBytes()` from its members in any order (the webhook payload), the
    /// first of keys given twice kept.
    public static func encodedObject(_ members: [(key: String, value: JSONValue)]) throws(EncodingError) -> [UInt8] {
        try JSONValue.object(JSONObject(unsorted: members)).encodedBytes()
    }

    /// An object of string members, as `encodedObject` writes it. Members with ASCII keys that
    /// come in key order already (a webhook's body, once per message) are written straight to
    /// bytes, without a tree; anything else takes `encodedObject`'s way, which also folds
    /// non-ASCII keys that Swift calls the same.
    public static func encodedObject(strings members: [(key: String, value: String)]) -> [UInt8] {
        let sorted = members.allSatisfy { JSONObject.isASCII($0.key) }
            && members.indices.dropFirst().allSatisfy { JSONObject.compare(members[$0 - 1].key, members[$0].key) < 0 }
        guard sorted else {
            // Strings always have a JSON form: this cannot throw.
            return (try? encodedObject(members.map { ($0.key, JSONValue.string($0.value)) })) ?? []
        }
        var writer = JSONWriter(capacity: members.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        writer.writeObject(strings: members)
        return writer.bytes
    }

    public func encodedString() throws(EncodingError) -> String {
        String(decoding: try encodedBytes(), as: UTF8.self)
    }
}
