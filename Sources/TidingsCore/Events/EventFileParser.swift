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

    /// Reads a producer's file: every event valid, no `(source, id)` twice with other content,
    /// and none of the events only the daemon writes.
    public static func parse(_ data: Data) -> (events: [CloudEvent], problems: [Problem]) {
        let (events, found, places) = read(data)
        var problems = found
        for (index, issue) in EventValidator.conflictingDuplicates(in: events) {
            problems.append(Problem(place: places[index].description, issue: issue))
        }
        for (index, event) in events.enumerated() {
            if let issue = EventValidator.reservation(of: event) { problems.append(Problem(place: places[index].description, issue: issue)) }
        }
        return (events, problems)
    }

    /// Every event with the place it came from, and the problems of the ones that are invalid.
    static func read(_ data: Data) -> (events: [CloudEvent], problems: [Problem], places: [Place]) {
        let firstByte = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if firstByte == UInt8(ascii: "[") { return readArray(data) }
        var events: [CloudEvent] = []
        var problems: [Problem] = []
        var places: [Place] = []
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
                collect(json, place: Place(unit: "line", number: lineNumber), into: &events, &problems, &places)
            }
        }
        return (events, problems, places)
    }

    static func readArray(_ data: Data) -> (events: [CloudEvent], problems: [Problem], places: [Place]) {
        guard let json = try? JSONValue.parse(data), let items = json.arrayValue else {
            return ([], [Problem(place: "file", issue: FieldIssue(field: "(json)", message: "starts with [ but is not a valid JSON array"))], [])
        }
        var events: [CloudEvent] = []
        var problems: [Problem] = []
        var places: [Place] = []
        for (index, item) in items.enumerated() {
            collect(item, place: Place(unit: "event", number: index + 1), into: &events, &problems, &places)
        }
        return (events, problems, places)
    }

    /// Where an event is in the file; spelled out only for a problem (this runs for every event).
    struct Place: CustomStringConvertible {
        var unit: StaticString
        var number: Int

        var description: String { "\(unit) \(number)" }
    }

    /// `places` holds each valid event's place, for problems found across events afterwards.
    static func collect(_ json: JSONValue, place: Place, into events: inout [CloudEvent], _ problems: inout [Problem], _ places: inout [Place]) {
        switch EventValidator.validate(json) {
        case .success(let event):
            events.append(event)
            places.append(place)
        case .failure(let error): problems.append(contentsOf: error.issues.map { Problem(place: place.description, issue: $0) })
        }
    }
}
