import Foundation

extension EventFileParser {
    /// Events' bytes split from the stream, copied out of its buffer (so the buffer can move
    /// on), each with its line or element number.
    public struct Items: Sendable {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var numbers: [Int] = []
        /// "line" (NDJSON) or "event" (JSON array): how problems name a place.
        var unit: String
        /// Problems of the file as a whole found while splitting (an unclosed array).
        var fileProblems: [Problem] = []

        init(unit: String) { self.unit = unit }

        public var count: Int { numbers.count }

        mutating func add(_ item: ArraySlice<UInt8>, number: Int) {
            bytes.append(contentsOf: item)
            ends.append(bytes.count)
            numbers.append(number)
        }
    }

    /// Items parsed, validated and encoded, in file order; not yet checked against each other.
    public struct Prepared: Sendable {
        struct Outcome: Sendable {
            var number: Int
            var result: Result<Candidate, Issues>
        }

        /// A valid event, with a hash of its canonical content for the duplicate check: of its
        /// bytes, or `JSONValue.contentHash` for one sealed later (never `Data`'s own hash,
        /// which reads only the first 80 bytes).
        struct Candidate: Sendable {
            var event: EncodedEvent
            var content: Int
        }

        struct Issues: Error, Sendable {
            var issues: [FieldIssue]
        }

        var outcomes: [Outcome] = []
        var unit: String
        var fileProblems: [Problem]
    }

    /// Parses, validates and encodes items: pure, so chunks can be prepared on several cores
    /// while an earlier one is written.
    public static func prepare(_ items: Items) -> Prepared {
        var prepared = Prepared(unit: items.unit, fileProblems: items.fileProblems)
        prepared.outcomes.reserveCapacity(items.count)
        var start = 0
        for (end, number) in zip(items.ends, items.numbers) {
            let item = items.bytes[start..<end]
            start = end
            prepared.outcomes.append(Prepared.Outcome(number: number, result: prepare(item)))
        }
        return prepared
    }

    static func prepare(_ item: ArraySlice<UInt8>) -> Result<Prepared.Candidate, Prepared.Issues> {
        guard let json = try? JSONValue.parse(item) else {
            return .failure(Prepared.Issues(issues: [FieldIssue(field: "(json)", message: "is not valid JSON")]))
        }
        switch EventValidator.validate(json) {
        case .failure(let error):
            return .failure(Prepared.Issues(issues: error.issues))
        case .success(let event):
            if let issue = EventValidator.reservation(of: event) { return .failure(Prepared.Issues(issues: [issue])) }
            do {
                // One whose personal fields are sealed is encoded once, sealed (`sealAhead`), and
                // hashed from its tree; the others from their bytes, which is quicker. Which
                // depends on the content alone, so the same content always hashes the same way.
                // A valid event always encodes (finite numbers, 32 levels at most), so the
                // encoding put off to the sealing cannot fail there instead of on its line.
                guard PersonalData.owner(of: event) == nil else {
                    return .success(Prepared.Candidate(event: EncodedEvent(unencoded: event), content: event.raw.contentHash))
                }
                let encoded = try EncodedEvent(event)
                var hasher = Hasher()
                encoded.body?.withUnsafeBytes { hasher.combine(bytes: $0) }
                return .success(Prepared.Candidate(event: encoded, content: hasher.finalize()))
            } catch {
                return .failure(Prepared.Issues(issues: [FieldIssue(field: "(json)", message: "cannot be stored: \(error)")]))
            }
        }
    }
}
