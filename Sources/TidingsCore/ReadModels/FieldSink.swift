import Foundation

/// Where a model writes its fields: a JSON tree (`FieldWriter`, for `json`), or the document's
/// bytes at once (`DocumentWriter`, for `document()`: the pipeline writes every changed model
/// in every batch, and building a tree of dictionaries first was most of that cost). One
/// `write(to:)` per model feeds both, so they cannot disagree.
///
/// Fields come in the order of their keys' UTF-8 bytes, the sorted order the document has; a
/// test holds the bytes to the tree's.
protocol FieldSink {
    mutating func set(_ key: String, _ value: String?)
    mutating func set(_ key: String, _ value: Double?)
    mutating func set(_ key: String, _ value: Int64?)
    mutating func set(_ key: String, _ value: Bool?)
    mutating func set(_ key: String, _ value: Date?)
    mutating func set(_ key: String, strings: [String])
    /// A value as it is (a template context's event data).
    mutating func set(_ key: String, _ value: JSONValue?)
    /// A nested object, its fields written by `fields`.
    mutating func object(_ key: String, _ fields: (inout Self) -> Void)
    /// An array of objects, one per item.
    mutating func objects<Items: Sequence>(_ key: String, _ items: Items, _ fields: (inout Self, Items.Element) -> Void)
}

extension FieldWriter: FieldSink {
    /// The tree `fields` writes.
    static func value(_ fields: (inout FieldWriter) -> Void) -> JSONValue {
        var writer = FieldWriter()
        fields(&writer)
        return writer.value
    }

    mutating func object(_ key: String, _ fields: (inout FieldWriter) -> Void) {
        guard wants(key) else { return }
        var nested = FieldWriter()
        fields(&nested)
        self.fields[key] = nested.value
    }

    mutating func objects<Items: Sequence>(_ key: String, _ items: Items, _ fields: (inout FieldWriter, Items.Element) -> Void) {
        guard wants(key) else { return }
        self.fields[key] = .array(items.map { item in
            var nested = FieldWriter()
            fields(&nested, item)
            return nested.value
        })
    }
}

/// Writes a model's document straight to bytes, exactly as `JSONWriter` writes its tree.
struct DocumentWriter: FieldSink {
    private var writer = JSONWriter(capacity: 1024)
    /// Whether the object being written has no field yet.
    private var empty = true
    /// A number with no JSON form (NaN, an infinity): the document fails as the tree's would.
    private var failed = false
    /// How deep the object being written is: a value written as it is (`JSONValue`) may be
    /// nested no deeper than the tree's writer allows.
    private var depth = 0

    init() {
        writer.append("{")
    }

    /// The document `fields` writes.
    static func document(_ fields: (inout DocumentWriter) -> Void) throws(JSONValue.EncodingError) -> [UInt8] {
        var writer = DocumentWriter()
        fields(&writer)
        return try writer.finish()
    }

    /// The document, or the tree's error for a value with no JSON form.
    consuming func finish() throws(JSONValue.EncodingError) -> [UInt8] {
        writer.append("}")
        guard !failed else { throw JSONValue.EncodingError() }
        return writer.bytes
    }

    private mutating func key(_ key: String) {
        if !empty { writer.append(",") }
        empty = false
        writer.writeString(key)
        writer.append(":")
    }

    private mutating func number(_ value: Double) {
        do { try writer.writeNumber(value) } catch { failed = true }
    }

    mutating func set(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        writer.writeString(value)
    }

    mutating func set(_ key: String, _ value: Double?) {
        guard let value else { return }
        self.key(key)
        number(value)
    }

    mutating func set(_ key: String, _ value: Int64?) { set(key, value.map(Double.init)) }

    mutating func set(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        value ? writer.append("true") : writer.append("false")
    }

    mutating func set(_ key: String, _ value: Date?) { set(key, value?.timeIntervalSinceReferenceDate) }

    mutating func set(_ key: String, strings: [String]) {
        self.key(key)
        writer.append("[")
        for (index, text) in strings.enumerated() {
            if index > 0 { writer.append(",") }
            writer.writeString(text)
        }
        writer.append("]")
    }

    mutating func set(_ key: String, _ value: JSONValue?) {
        guard let value else { return }
        self.key(key)
        do { try writer.write(value, depth: depth + 1) } catch { failed = true }
    }

    mutating func object(_ key: String, _ fields: (inout DocumentWriter) -> Void) {
        self.key(key)
        nested(fields)
    }

    mutating func objects<Items: Sequence>(_ key: String, _ items: Items, _ fields: (inout DocumentWriter, Items.Element) -> Void) {
        self.key(key)
        writer.append("[")
        var first = true
        for item in items {
            if !first { writer.append(",") }
            first = false
            nested { fields(&$0, item) }
        }
        writer.append("]")
    }

    /// One object inside this one: its own first field, then back to this one's.
    private mutating func nested(_ fields: (inout DocumentWriter) -> Void) {
        writer.append("{")
        empty = true
        depth += 1
        fields(&self)
        depth -= 1
        writer.append("}")
        empty = false
    }
}
