import Foundation

/// Reads events from a file for `tidings append`: a JSON array, or NDJSON (one event per
/// line). Every event is validated; problems are reported by line number and field.
public enum EventFileParser {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The line (NDJSON) or the element number (JSON array), counted from 1.
        public var place: String
        public var issue: FieldIssue

        public var description: String { "\(place): \(issue.field): \(issue.message)" }
    }

    public static func parse(_ data: Data) -> (events: [CloudEvent], problems: [Problem]) {
        let firstByte = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if firstByte == UInt8(ascii: "[") { return parseArray(data) }
        var events: [CloudEvent] = []
        var problems: [Problem] = []
        // Lines are found and parsed in place: a file of 200,000 events must not become
        // 200,000 copies of its lines first.
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var lineNumber = 0
            var start = 0
            while start <= raw.count {
                var end = raw.count
                if start < raw.count, let base = raw.baseAddress, let newline = memchr(base + start, 0x0A, raw.count - start) {
                    end = base.distance(to: UnsafeRawPointer(newline))
                }
                lineNumber += 1
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                start = end + 1
                guard line.contains(where: { !($0 == 0x20 || $0 == 0x0D || $0 == 0x09) }) else { continue }
                guard let json = try? JSONParser.parse(line) else {
                    problems.append(Problem(place: "line \(lineNumber)", issue: FieldIssue(field: "(json)", message: "is not valid JSON")))
                    continue
                }
                collect(json, place: "line \(lineNumber)", into: &events, &problems)
            }
        }
        return (events, problems)
    }

    static func parseArray(_ data: Data) -> (events: [CloudEvent], problems: [Problem]) {
        guard let json = try? JSONValue.parse(data), let items = json.arrayValue else {
            return ([], [Problem(place: "file", issue: FieldIssue(field: "(json)", message: "starts with [ but is not a valid JSON array"))])
        }
        var events: [CloudEvent] = []
        var problems: [Problem] = []
        for (index, item) in items.enumerated() {
            collect(item, place: "event \(index + 1)", into: &events, &problems)
        }
        return (events, problems)
    }

    static func collect(_ json: JSONValue, place: @autoclosure () -> String, into events: inout [CloudEvent], _ problems: inout [Problem]) {
        switch EventValidator.validate(json) {
        case .success(let event): events.append(event)
        case .failure(let error): problems.append(contentsOf: error.issues.map { Problem(place: place(), issue: $0) })
        }
    }
}
