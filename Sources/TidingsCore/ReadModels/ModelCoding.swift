import Foundation

/// Read models to and from JSON without Foundation's `Codable`, which cost a third of the
/// pipeline (every event decodes and encodes its order or ticket and customer). The documents
/// are the ones `JSONEncoder` wrote before: the same keys (the property names), dates as seconds
/// since 2001-01-01, absent optionals left out; so rows written by either still read.
public protocol JSONModel {
    init(json: JSONValue) throws(ModelDecodingError)
    var json: JSONValue { get }
    /// The stored document: `json`'s bytes, which a model may write without the tree.
    func document() throws(JSONValue.EncodingError) -> [UInt8]
}

/// A stored model that does not read: the field that is missing or of the wrong kind.
public struct ModelDecodingError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String

    public var description: String { "\(field): \(problem)" }
}

extension JSONModel {
    public init(document: some Collection<UInt8>) throws {
        let value = try Array(document).withUnsafeBufferPointer { try JSONParser.parse($0) }
        try self.init(json: value)
    }

    public func document() throws(JSONValue.EncodingError) -> [UInt8] { try json.encodedBytes() }
}

/// Reads the fields of one JSON object, naming what is wrong.
struct FieldReader {
    let fields: [String: JSONValue]
    let type: String

    init(_ value: JSONValue, _ type: String) throws(ModelDecodingError) {
        guard case .object(let fields) = value else { throw ModelDecodingError(field: type, problem: "is not an object") }
        self.fields = fields
        self.type = type
    }

    func fail(_ key: String, _ problem: String) -> ModelDecodingError { ModelDecodingError(field: "\(type).\(key)", problem: problem) }

    func present(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(ModelDecodingError) -> String {
        guard let text = try optionalString(key) else { throw fail(key, "is missing") }
        return text
    }

    func optionalString(_ key: String) throws(ModelDecodingError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw fail(key, "is not a string") }
        return text
    }

    func number(_ key: String) throws(ModelDecodingError) -> Double {
        guard let value = try optionalNumber(key) else { throw fail(key, "is missing") }
        return value
    }

    func optionalNumber(_ key: String) throws(ModelDecodingError) -> Double? {
        guard let value = present(key) else { return nil }
        guard case .number(let number) = value else { throw fail(key, "is not a number") }
        return number
    }

    func position(_ key: String) throws(ModelDecodingError) -> Int64 {
        guard let value = try optionalPosition(key) else { throw fail(key, "is missing") }
        return value
    }

    func optionalPosition(_ key: String) throws(ModelDecodingError) -> Int64? {
        guard let number = try optionalNumber(key) else { return nil }
        guard let position = Int64(exactly: number) else { throw fail(key, "is not a whole number") }
        return position
    }

    func date(_ key: String) throws(ModelDecodingError) -> Date {
        Date(timeIntervalSinceReferenceDate: try number(key))
    }

    func optionalDate(_ key: String) throws(ModelDecodingError) -> Date? {
        try optionalNumber(key).map(Date.init(timeIntervalSinceReferenceDate:))
    }

    func optionalBool(_ key: String) throws(ModelDecodingError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let flag) = value else { throw fail(key, "is not true or false") }
        return flag
    }

    func array(_ key: String) throws(ModelDecodingError) -> [JSONValue] {
        guard let value = present(key) else { return [] }
        guard case .array(let items) = value else { throw fail(key, "is not an array") }
        return items
    }

    func strings(_ key: String) throws(ModelDecodingError) -> [String] {
        var texts: [String] = []
        for item in try array(key) {
            guard case .string(let text) = item else { throw fail(key, "holds something other than strings") }
            texts.append(text)
        }
        return texts
    }

    func raw<T: RawRepresentable>(_ key: String, as: T.Type) throws(ModelDecodingError) -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(key)) else { throw fail(key, "is not a known value") }
        return value
    }
}

/// Builds one JSON object, leaving out what is absent; or (`only`) just one of its fields.
struct FieldWriter {
    var fields: [String: JSONValue] = [:]
    /// The one field to keep: a workflow condition asks about one member of a template context.
    var only: String?

    init(only: String? = nil) {
        self.only = only
    }

    func wants(_ key: String) -> Bool { only == nil || only == key }

    mutating func set(_ key: String, _ value: String?) { if let value, wants(key) { fields[key] = .string(value) } }
    mutating func set(_ key: String, _ value: Double?) { if let value, wants(key) { fields[key] = .number(value) } }
    mutating func set(_ key: String, _ value: Int64?) { if let value, wants(key) { fields[key] = .number(Double(value)) } }
    mutating func set(_ key: String, _ value: Bool?) { if let value, wants(key) { fields[key] = .bool(value) } }
    mutating func set(_ key: String, _ value: Date?) {
        if let value, wants(key) { fields[key] = .number(value.timeIntervalSinceReferenceDate) }
    }
    mutating func set(_ key: String, _ value: JSONValue?) { if let value, wants(key) { fields[key] = value } }
    mutating func set(_ key: String, strings: [String]) { if wants(key) { fields[key] = .array(strings.map(JSONValue.string)) } }

    var value: JSONValue { .object(fields) }
}

extension TimelineEntry: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) {
        let r = try FieldReader(json, "timeline")
        self.init(at: try r.date("at"), type: try r.string("type"), position: try r.position("position"), note: try r.optionalString("note"))
    }

    public var json: JSONValue { FieldWriter.value { write(to: &$0) } }

    /// Keys in sorted order (`FieldSink`).
    func write<Sink: FieldSink>(to w: inout Sink) {
        w.set("at", at)
        w.set("note", note)
        w.set("position", position)
        w.set("type", type)
    }

    static func list(_ items: [JSONValue]) throws(ModelDecodingError) -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        entries.reserveCapacity(items.count)
        for item in items { entries.append(try TimelineEntry(json: item)) }
        return entries
    }
}
