import Foundation
import HTTPTypes
import TidingsCore

/// Reads CloudEvents from a request in any of the four ways the API takes them, validating
/// every event; a request with one bad event yields problems and no events.
enum EventDecoding {
    enum Mode: String {
        case structured, batch, ndjson, binary
    }

    static func mode(of headers: HTTPFields) throws(Problem) -> Mode {
        let type = mediaType(headers[.contentType] ?? "")
        switch type {
        case "application/cloudevents+json": return .structured
        case "application/cloudevents-batch+json": return .batch
        case "application/x-ndjson": return .ndjson
        default:
            if headers[ceSpecVersion] != nil, type == "application/json" || type.hasSuffix("+json") { return .binary }
            throw Problem(.unsupportedMediaType, "Unsupported Media Type", detail: """
                send application/cloudevents+json (one event), application/cloudevents-batch+json (an array), \
                application/x-ndjson (one event per line), or application/json data with ce-* headers (binary mode); got \
                "\(headers[.contentType] ?? "no Content-Type")"
                """)
        }
    }

    /// The media type of a Content-Type value: its first part between `;`s that is not empty,
    /// trimmed of white space and lower-cased. By bytes for an ASCII value (then only spaces and
    /// tabs are white space, and only A-Z change case): Foundation's trimming and lower-casing,
    /// kept for any other value, were about 2.6% of the daemon's time for single-event requests.
    static func mediaType(_ value: String) -> String {
        guard value.utf8.allSatisfy({ $0 < 0x80 }) else {
            return value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        var type = value.utf8.drop { $0 == UInt8(ascii: ";") }.prefix { $0 != UInt8(ascii: ";") }
        while let first = type.first, first == 0x20 || first == 0x09 { type.removeFirst() }
        while let last = type.last, last == 0x20 || last == 0x09 { type.removeLast() }
        return String(decoding: type.lazy.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    static func decode(_ body: [UInt8], headers: HTTPFields) throws(Problem) -> [CloudEvent] {
        var items: [JSONValue] = []
        switch try mode(of: headers) {
        case .structured:
            items = [try parse(body[...], event: 1)]
        case .batch:
            guard case .array(let array) = try parse(body[...], event: nil) else {
                throw invalid([Problem.Issue(event: nil, field: "(body)", message: "must be a JSON array of events")])
            }
            items = array
        case .ndjson:
            let lines = body.split(separator: UInt8(ascii: "\n")).filter { $0.contains { !($0 == 0x20 || $0 == 0x0D || $0 == 0x09) } }
            for (index, line) in lines.enumerated() { items.append(try parse(line, event: index + 1)) }
        case .binary:
            items = [try binary(body[...], headers: headers)]
        }
        guard !items.isEmpty else {
            throw invalid([Problem.Issue(event: nil, field: "(body)", message: "holds no events")])
        }
        var events: [CloudEvent] = []
        var issues: [Problem.Issue] = []
        for (index, item) in items.enumerated() {
            switch EventValidator.validate(item) {
            case .success(let event): events.append(event)
            case .failure(let error):
                issues += error.issues.map { Problem.Issue(event: index + 1, field: $0.field, message: $0.message) }
            }
        }
        issues += EventValidator.conflictingDuplicates(in: events).map {
            Problem.Issue(event: $0.index + 1, field: $0.issue.field, message: $0.issue.message)
        }
        guard issues.isEmpty else { throw invalid(issues) }
        let reserved = events.enumerated().compactMap { index, event in
            EventValidator.reservation(of: event).map { Problem.Issue(event: index + 1, field: $0.field, message: $0.message) }
        }
        if let first = reserved.first {
            throw Problem(.forbidden, "Reserved events", detail: """
                event \(first.event ?? 1): \(first.field): \(first.message)\(reserved.count > 1 ? " (and \(reserved.count - 1) more)" : ""); \
                nothing was stored
                """, issues: reserved)
        }
        return events
    }

    static func invalid(_ issues: [Problem.Issue]) -> Problem {
        let first = issues[0]
        let place = first.event.map { "event \($0): " } ?? ""
        return Problem(.badRequest, "Invalid events", detail: "\(place)\(first.field): \(first.message)"
            + (issues.count > 1 ? " (and \(issues.count - 1) more; see errors)" : "") + "; nothing was stored", issues: issues)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, event: Int?) throws(Problem) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw invalid([Problem.Issue(event: event, field: "(json)", message: "is not valid JSON")])
        }
    }

    static let ceSpecVersion = HTTPField.Name("ce-specversion")!

    /// Binary mode: the attributes are `ce-` headers, percent-decoded as the CloudEvents HTTP
    /// binding requires (3.1.3.2), and the body is the event's data. An attribute given twice
    /// is refused: which `ce-id` the event has would be a guess.
    static func binary(_ bytes: ArraySlice<UInt8>, headers: HTTPFields) throws(Problem) -> JSONValue {
        // Collected, then sorted once: inserted one by one, thousands of headers in reverse
        // order would move the whole list each time.
        var attributes: [JSONObject.Member] = []
        var seen = Set<String>()
        for field in headers where field.name.canonicalName.hasPrefix("ce-") {
            let attribute = String(field.name.canonicalName.dropFirst(3))
            // The body is the data, as before: a `ce-data` header is no attribute.
            if attribute == "data" { continue }
            guard seen.insert(attribute).inserted else {
                throw invalid([Problem.Issue(event: 1, field: attribute, message: "the header \(field.name.canonicalName) appears more than once")])
            }
            guard let value = percentDecoded(field.value) else {
                throw invalid([Problem.Issue(event: 1, field: attribute, message: "the header \(field.name.canonicalName) is not valid percent-encoded UTF-8")])
            }
            attributes.append((attribute, .string(value)))
        }
        attributes.append(("data", try parse(bytes, event: 1)))
        return .object(JSONObject(unsorted: attributes))
    }

    /// `%XX` sequences to bytes, the whole read as UTF-8; nil for a broken sequence.
    static func percentDecoded(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case .some(let b) where b >= 0x30 && b <= 0x39: return b - 0x30
            case .some(let b) where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case .some(let b) where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
