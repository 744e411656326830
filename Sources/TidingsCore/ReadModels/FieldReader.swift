import Foundation

/// Reads the fields of one JSON object, naming what is wrong: from a tree (`init(json:)`), or
/// straight from a stored document's bytes (`init(document:)`). The pipeline reads every model
/// it has not cached, and parsing each document into a tree of dictionaries first was most of
/// that cost: here an object's members are found by one scan that keeps where each value lies,
/// and a value is parsed (strictly, by `JSONParser`) only when it is read.
struct FieldReader {
    private let source: Source
    let type: String

    private enum Source {
        case tree(JSONObject)
        case bytes(document: [UInt8], members: [MemberScan.Member])
    }

    init(_ value: JSONValue, _ type: String) throws(ModelDecodingError) {
        guard case .object(let fields) = value else { throw ModelDecodingError(field: type, problem: "is not an object") }
        source = .tree(fields)
        self.type = type
    }

    /// The object that starts at `start` (a leading byte order mark and whitespace skipped
    /// when it is the whole document).
    init(document: [UInt8], at start: Int? = nil, _ type: String) throws(ModelDecodingError) {
        let members = document.withUnsafeBufferPointer { bytes in
            if let start { return MemberScan.members(of: bytes, at: start) }
            return MemberScan.document(bytes)
        }
        guard let members else { throw ModelDecodingError(field: type, problem: "is not an object") }
        source = .bytes(document: document, members: members)
        self.type = type
    }

    func fail(_ key: String, _ problem: String) -> ModelDecodingError { ModelDecodingError(field: "\(type).\(key)", problem: problem) }

    /// A field's value, nil when absent or null.
    func present(_ key: String) throws(ModelDecodingError) -> JSONValue? {
        let value: JSONValue?
        switch source {
        case .tree(let fields):
            value = fields[key]
        case .bytes(let document, let members):
            guard let member = MemberScan.find(key, in: members, of: document) else { return nil }
            do {
                value = try document.withUnsafeBufferPointer { bytes throws(JSONParseError) in
                    try JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[member.value]))
                }
            } catch {
                throw fail(key, "does not read (\(error))")
            }
        }
        guard let value, value != .null else { return nil }
        return value
    }

    /// A nested object, nil when absent or null.
    func object(_ key: String) throws(ModelDecodingError) -> FieldReader? {
        switch source {
        case .tree:
            return try present(key).map { value throws(ModelDecodingError) in try FieldReader(value, "\(type).\(key)") }
        case .bytes(let document, let members):
            guard let member = MemberScan.find(key, in: members, of: document), !MemberScan.isNull(member.value, in: document) else { return nil }
            return try FieldReader(document: document, at: member.value.lowerBound, "\(type).\(key)")
        }
    }

    /// An array of objects, empty when absent or null.
    func objects(_ key: String) throws(ModelDecodingError) -> [FieldReader] {
        switch source {
        case .tree:
            return try array(key).map { item throws(ModelDecodingError) in try FieldReader(item, "\(type).\(key)") }
        case .bytes(let document, let members):
            guard let member = MemberScan.find(key, in: members, of: document), !MemberScan.isNull(member.value, in: document) else { return [] }
            guard let starts = document.withUnsafeBufferPointer({ MemberScan.elements(of: $0, at: member.value.lowerBound) }) else {
                throw fail(key, "is not an array")
            }
            var readers: [FieldReader] = []
            readers.reserveCapacity(starts.count)
            for start in starts { readers.append(try FieldReader(document: document, at: start, "\(type).\(key)")) }
            return readers
        }
    }

    func string(_ key: String) throws(ModelDecodingError) -> String {
        guard let text = try optionalString(key) else { throw fail(key, "is missing") }
        return text
    }

    func optionalString(_ key: String) throws(ModelDecodingError) -> String? {
        guard let value = try present(key) else { return nil }
        guard case .string(let text) = value else { throw fail(key, "is not a string") }
        return text
    }

    func number(_ key: String) throws(ModelDecodingError) -> Double {
        guard let value = try optionalNumber(key) else { throw fail(key, "is missing") }
        return value
    }

    func optionalNumber(_ key: String) throws(ModelDecodingError) -> Double? {
        guard let value = try present(key) else { return nil }
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
        guard let value = try present(key) else { return nil }
        guard case .bool(let flag) = value else { throw fail(key, "is not true or false") }
        return flag
    }

    func array(_ key: String) throws(ModelDecodingError) -> [JSONValue] {
        guard let value = try present(key) else { return [] }
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

