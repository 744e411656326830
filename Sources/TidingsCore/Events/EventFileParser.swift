import Foundation

/// Reads events for `tidings append` as a stream: NDJSON (one event per line) or a JSON array,
/// a chunk at a time, so a file of any size needs a buffer, not its whole self in memory.
/// Every event is validated; problems are reported by line (or element) number and field: an
/// invalid event, one that reuses an earlier `(source, id)` with other content, or one only
/// the daemon may write.
public struct EventFileParser {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The line (NDJSON) or the element number (JSON array), counted from 1.
        public var place: String
        public var issue: FieldIssue

        public var description: String { "\(place): \(issue.field): \(issue.message)" }
    }

    /// Where the bytes come from: a read of up to this many bytes, empty at the end.
    public typealias Source = (Int) throws -> [UInt8]

    private let source: Source
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false
    private var format: Format?
    private var number = 0
    /// A JSON array that ended without its closing bracket: the file was cut short.
    private var unclosed = false
    /// The array's closing bracket was read: what follows is ignored.
    private var closed = false
    /// Something other than blanks after the array's closing `]`: a second array, say, which
    /// would otherwise go unread while the append reports success.
    private var trailing = false
    /// Each `(source, id)` seen so far, with a hash of its content and where it was. Kept by
    /// a 128-bit fingerprint, not the strings: for 200,000 events the strings took 38 MB, the
    /// fingerprints take a third of that, and two identities share one with a chance of about
    /// 1 in 10^28.
    private var seen: [Identity: (content: Int, place: Int)] = [:]

    enum Format { case lines, array }

    struct Identity: Hashable {
        var high: Int
        var low: Int

        init(source: String, id: String) {
            // Two hashes of the same strings, told apart by a first byte: independent halves.
            var high = Hasher(), low = Hasher()
            high.combine(0 as UInt8)
            high.combine(source)
            high.combine(id)
            low.combine(1 as UInt8)
            low.combine(source)
            low.combine(id)
            self.high = high.finalize()
            self.low = low.finalize()
        }
    }

    public init(source: @escaping Source) {
        self.source = source
    }

    /// Reads a file as it goes.
    public init(file: FileHandle) {
        self.init { count in
            guard let data = try file.read(upToCount: count) else { return [] }
            return Array(data)
        }
    }

    /// The whole of some bytes: for tests and small inputs.
    public static func parse(_ data: Data) throws -> (events: [CloudEvent], problems: [Problem]) {
        var bytes: [UInt8]? = Array(data)
        var parser = EventFileParser { _ in defer { bytes = nil }; return bytes ?? [] }
        var events: [CloudEvent] = []
        var problems: [Problem] = []
        while let chunk = try parser.next(count: 1_000) {
            events += chunk.events
            problems += chunk.problems
        }
        return (events, problems)
    }

    /// Up to `count` valid events, and the problems met on the way; nil at the end.
    public mutating func next(count: Int) throws -> (events: [CloudEvent], problems: [Problem])? {
        guard let items = try nextItems(count: count) else { return nil }
        let admitted = admit(Self.prepare(items))
        return (admitted.events.map(\.event), admitted.problems)
    }

    /// The bytes of up to `count` events, split from the stream but not parsed: parsing
    /// (`prepare`) needs no state, so a caller may run it on other cores. Nil at the end.
    public mutating func nextItems(count: Int) throws -> Items? {
        var items = Items(unit: "line")
        while items.count < count {
            guard let item = try nextItem() else { break }
            number += 1
            items.add(item, number: number)
        }
        items.unit = format == .array ? "event" : "line"
        if trailing {
            trailing = false
            items.fileProblems.append(Problem(place: "file", issue: FieldIssue(field: "(json)", message: "there is more after the array's closing ]: a file holds one JSON array, or NDJSON")))
        }
        if unclosed {
            unclosed = false
            items.fileProblems.append(Problem(place: "file", issue: FieldIssue(field: "(json)", message: "the JSON array has no closing ]: is the file complete?")))
        }
        if items.count == 0 && items.fileProblems.isEmpty { return nil }
        return items
    }

    /// Prepared items in file order, checked against everything admitted before: the same
    /// `(source, id)` again must carry the same content.
    public mutating func admit(_ prepared: Prepared) -> (events: [EncodedEvent], problems: [Problem]) {
        var events: [EncodedEvent] = []
        var problems: [Problem] = []
        events.reserveCapacity(prepared.outcomes.count)
        for outcome in prepared.outcomes {
            switch outcome.result {
            case .failure(let issues):
                problems += issues.issues.map { problem(outcome.number, unit: prepared.unit, $0) }
            case .success(let candidate):
                if let issue = conflict(candidate, place: outcome.number, unit: prepared.unit) {
                    problems.append(problem(outcome.number, unit: prepared.unit, issue))
                } else {
                    events.append(candidate.event)
                }
            }
        }
        return (events, problems + prepared.fileProblems)
    }

    func problem(_ place: Int, unit: String, _ issue: FieldIssue) -> Problem {
        Problem(place: "\(unit) \(place)", issue: issue)
    }

    /// The same `(source, id)` again with other content would be dropped as "already stored".
    /// Content compares by the canonical bytes, what the log would store: `-0` for `0`, or a
    /// string in another Unicode normalisation, counts as other content.
    mutating func conflict(_ candidate: Prepared.Candidate, place: Int, unit: String) -> FieldIssue? {
        let event = candidate.event
        let identity = Identity(source: event.event.source, id: event.event.id)
        let content = candidate.content
        guard let earlier = seen[identity] else {
            seen[identity] = (content, place)
            return nil
        }
        guard earlier.content != content else { return nil }
        return FieldIssue(field: "id", message: "\"\(event.event.id)\" from \(event.event.source) is also \(unit) \(earlier.place), with other content; ids must be unique per source")
    }

    // MARK: Splitting the stream into items

    private static let blockSize = 1 << 20

    /// Reads more, keeping what is not consumed yet. Returns false at the end of the input.
    private mutating func fill() throws -> Bool {
        guard !ended else { return false }
        let block = try source(Self.blockSize)
        guard !block.isEmpty else {
            ended = true
            return false
        }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: block)
        return true
    }

    /// The next event's bytes, or nil at the end. A broken array yields its rest as one item,
    /// which then fails to parse with the element's number.
    private mutating func nextItem() throws -> ArraySlice<UInt8>? {
        if format == nil {
            while firstNonSpace() == nil, try fill() {}
            guard let first = firstNonSpace() else { return nil }
            format = buffer[first] == UInt8(ascii: "[") ? .array : .lines
            if format == .array { start = first + 1 }
        }
        return format == .array ? try nextElement() : try nextLine()
    }

    private func firstNonSpace() -> Int? {
        buffer[start...].firstIndex { !Self.isSpace($0) }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    private mutating func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                start = newline + 1
                if line.contains(where: { !Self.isSpace($0) }) { return line }
                number += 1  // a blank line still counts as a line
                continue
            }
            guard try fill() else {
                let rest = buffer[start...]
                start = buffer.count
                return rest.contains(where: { !Self.isSpace($0) }) ? rest : nil
            }
        }
    }

    /// Reads to the end of the input, from `start`: whether nothing but blanks is left.
    private mutating func restIsBlank() throws -> Bool {
        while true {
            if buffer[start...].contains(where: { !Self.isSpace($0) }) {
                start = buffer.count
                return false
            }
            start = buffer.count
            guard try fill() else { return true }
        }
    }

    /// One element of a top-level array: scans to the comma or bracket at depth zero, outside
    /// strings.
    private mutating func nextElement() throws -> ArraySlice<UInt8>? {
        guard !closed else { return nil }
        var index = start
        var depth = 0
        var inString = false
        var escaped = false
        while true {
            while index < buffer.count {
                let byte = buffer[index]
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"): depth -= 1
                    case UInt8(ascii: ","), UInt8(ascii: "]"):
                        guard depth == 0 else {
                            if byte == UInt8(ascii: "]") { depth -= 1 }
                            break
                        }
                        let element = buffer[start..<index]
                        start = index + 1
                        if byte == UInt8(ascii: "]") {
                            closed = true
                            trailing = try !restIsBlank()
                            // `[]` is empty; `[1,]` has an empty element, which fails to parse.
                            return element.contains(where: { !Self.isSpace($0) }) || number > 0 ? element : nil
                        }
                        return element
                    default: break
                    }
                }
                index += 1
            }
            let consumed = index - start
            guard try fill() else {
                let rest = buffer[start...]
                start = buffer.count
                closed = true
                unclosed = true
                return rest.contains(where: { !Self.isSpace($0) }) ? rest : nil
            }
            index = start + consumed
        }
    }
}
