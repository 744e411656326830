import Foundation

/// Read models to and from JSON without Foundation's `Codable`, which cost a third of the
/// pipeline (every event decodes and encodes its order or ticket and customer). The documents
/// are the ones `JSONEncoder` wrote before: the same keys (the property names), dates as seconds
/// since 2001-01-01, absent optionals left out; so rows written by either still read.
public protocol JSONModel {
    init(json: JSONValue) throws(ModelDecodingError)
    /// A stored document, read without building its tree.
    init(documentBytes: [UInt8]) throws(ModelDecodingError)
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
        try self.init(documentBytes: Array(document))
    }

    public func document() throws(JSONValue.EncodingError) -> [UInt8] { try json.encodedBytes() }
}

/// Builds one JSON object, leaving out what is absent; or (`only`) just one of its fields.
struct FieldWriter {
    var fields: JSONObject = [:]
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
    public init(json: JSONValue) throws(ModelDecodingError) { try self.init(fields: FieldReader(json, "timeline")) }

    public init(documentBytes: [UInt8]) throws(ModelDecodingError) { try self.init(fields: FieldReader(document: documentBytes, "timeline")) }

    init(fields r: FieldReader) throws(ModelDecodingError) {
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

    static func list(_ items: [FieldReader]) throws(ModelDecodingError) -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        entries.reserveCapacity(items.count)
        for item in items { entries.append(try TimelineEntry(fields: item)) }
        return entries
    }
}
