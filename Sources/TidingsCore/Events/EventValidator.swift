import Foundation

/// One thing wrong with an incoming event, named by the field at fault.
public struct FieldIssue: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Validates CloudEvents 1.0 JSON before it may enter the log: the envelope first, then the
/// `data` of the types Tidings understands. Unknown types are accepted and stored as they are.
public enum EventValidator {
    /// How deep an event's arrays and objects may nest, the event object itself counting as 1.
    /// Real events need four or five levels; the limit keeps the log, the read models and the
    /// template contexts far from the JSON writer's own limit.
    public static let maximumDepth = 32
    /// The longest attribute (id, source, type, subject), in characters: they name and identify
    /// an event, and (source, id) is a unique index, which PostgreSQL's B-tree caps at about
    /// 2.7 kB a row. 256 characters are at most 1 kB each in UTF-8.
    public static let maximumAttributeLength = 256

    public static func validate(_ json: JSONValue) -> Result<CloudEvent, EventValidationError> {
        guard case .object(let fields) = json else {
            return .failure(EventValidationError([FieldIssue(field: "(event)", message: "must be a JSON object, got \(json.kindName)")]))
        }
        guard !json.nests(deeperThan: maximumDepth) else {
            return .failure(EventValidationError([FieldIssue(
                field: "(event)", message: "nests arrays and objects more than \(maximumDepth) levels deep")]))
        }
        var issues: [FieldIssue] = []
        func attribute(_ name: String, _ value: JSONValue) -> String? {
            guard let text = value.stringValue, !text.isEmpty else {
                issues.append(FieldIssue(field: name, message: "must be a non-empty string"))
                return nil
            }
            // At most 256 bytes are at most 256 characters: counted only when longer.
            guard text.utf8.count <= maximumAttributeLength || text.unicodeScalars.count <= maximumAttributeLength else {
                issues.append(FieldIssue(field: name, message: "must be at most \(maximumAttributeLength) characters long, got \(text.unicodeScalars.count)"))
                return nil
            }
            // A NUL would be cut off by SQLite's text functions, and line breaks and escapes
            // garble logs and terminals: attributes name things, they carry no text.
            guard !hasControl(text) else {
                issues.append(FieldIssue(field: name, message: "must not contain control characters (such as NUL, a line break or ESC)"))
                return nil
            }
            return text
        }
        func requiredString(_ name: String) -> String? {
            guard let value = fields[name] else {
                issues.append(FieldIssue(field: name, message: "is required"))
                return nil
            }
            return attribute(name, value)
        }
        let specversion = requiredString("specversion")
        if let specversion, specversion != "1.0" {
            issues.append(FieldIssue(field: "specversion", message: "must be \"1.0\", got \"\(specversion)\""))
        }
        let id = requiredString("id")
        let source = requiredString("source")
        let type = requiredString("type")
        let subject = fields["subject"].flatMap { attribute("subject", $0) }
        var time: Date?
        if let value = fields["time"] {
            if let text = value.stringValue, let date = Timestamp.parse(text) { time = date } else {
                issues.append(FieldIssue(field: "time", message: "must be an RFC 3339 timestamp such as 2026-11-23T09:30:00Z"))
            }
        }
        if let value = fields["datacontenttype"], value != .null {
            if let contentType = value.stringValue, !Self.namesJSON(contentType) {
                issues.append(FieldIssue(field: "datacontenttype", message: "must be a JSON media type, got \"\(contentType)\""))
            } else if value.stringValue == nil {
                issues.append(FieldIssue(field: "datacontenttype", message: "must be a string such as application/json, got \(value.kindName)"))
            }
        }
        // The contract: `data` is a JSON object, whatever the type.
        var data = fields["data"] ?? .object([:])
        guard case .object = data else {
            issues.append(FieldIssue(field: "data", message: "must be a JSON object, got \(data.kindName)"))
            return .failure(EventValidationError(issues))
        }
        // Older shapes are checked as the current one they become; the log keeps them as sent.
        let sent = data
        var version = 1
        if let type {
            if let known = Upcasting.version(of: fields, type: type) {
                version = known
                data = Upcasting.upcast(data, type: type, from: version)
            } else {
                issues.append(FieldIssue(field: Upcasting.attribute, message: """
                    must be a whole number from 1 to \(Upcasting.currentVersion(of: type)), the versions of \(type)'s data this Tidings reads
                    """))
            }
        }
        if let type, let schema = EventCatalogue.schema(for: type) {
            if schema.needsSubject && subject == nil {
                issues.append(FieldIssue(field: "subject", message: "is required for \(type): it names the \(schema.entity) the event is about"))
            }
            issues.append(contentsOf: schema.check(data).map { issue in
                var issue = issue
                issue.field = Upcasting.sentName(of: issue.field, in: sent, type: type, from: version)
                return issue
            })
        }
        guard issues.isEmpty, let id, let source, let type else {
            return .failure(EventValidationError(issues))
        }
        return .success(CloudEvent(id: id, source: source, type: type, subject: subject, time: time, data: data, raw: json))
    }

    /// Whether a media type says JSON, as openapi.yaml's pattern `[Jj][Ss][Oo][Nn]` does: on
    /// the bytes, since a combining mark after the "n" would hide it from a search by characters.
    /// One pass, no copies: asked of every event. No letter of "json" repeats, so a mismatch
    /// can only restart the match at its first letter.
    static func namesJSON(_ contentType: String) -> Bool {
        var matched = 0
        for byte in contentType.utf8 {
            let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if lower == jsonLetters[matched] {
                matched += 1
                if matched == jsonLetters.count { return true }
            } else {
                matched = lower == jsonLetters[0] ? 1 : 0
            }
        }
        return false
    }

    private static let jsonLetters = Array("json".utf8)

    /// Whether any scalar is a control character (below U+0020, or DEL), read from the UTF-8
    /// bytes: those scalars are single ASCII bytes, and no byte of a longer sequence is below
    /// 0x80, so no scalar is decoded.
    static func hasControl(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// Why a producer may not send this event, if it may not: deadline events and anything
    /// under the daemon's own source are written by the daemon alone, so a client can neither
    /// send an apology early nor take a deadline's id so that the real one never fires.
    public static func reservation(of event: CloudEvent) -> FieldIssue? {
        if Deadlines.types.contains(event.type) {
            return FieldIssue(field: "type", message: "\(event.type) is written by the tidings clock only; producers may not send it")
        }
        if event.type == UnsubscribeLinks.eventType {
            return FieldIssue(field: "type", message: "\(event.type) is recorded by one-click unsubscribe only; send customer.updated with preferences.opt_out")
        }
        if Receipt.types.contains(event.type) {
            return FieldIssue(field: "type", message: "\(event.type) is recorded by Tidings' receipt endpoints only (/v1/receipts/…)")
        }
        if event.type == Suppression.liftedType {
            return FieldIssue(field: "type", message: "\(event.type) is recorded by `tidings suppressions remove` only")
        }
        if event.type == PersonalData.forgottenType {
            return FieldIssue(field: "type", message: "\(event.type) is recorded by `tidings forget` only; run that to erase a customer")
        }
        if event.source.lowercased().hasPrefix(Deadlines.reservedSourcePrefix) {
            return FieldIssue(field: "source", message: "sources under \(Deadlines.reservedSourcePrefix) belong to tidings itself; use your own, such as urn:myshop:orders")
        }
        return nil
    }

    /// Events of one request that reuse an earlier event's `(source, id)` with other content:
    /// storing the first and skipping the second as "already stored" would lose it. The same
    /// event twice is fine (it is stored once). Returns the index of each offender and why.
    public static func conflictingDuplicates(in events: [CloudEvent]) -> [(index: Int, issue: FieldIssue)] {
        struct Identity: Hashable { var source: String; var id: String }
        var first: [Identity: Int] = [:]
        var conflicts: [(index: Int, issue: FieldIssue)] = []
        for (index, event) in events.enumerated() {
            let identity = Identity(source: event.source, id: event.id)
            guard let earlier = first[identity] else {
                first[identity] = index
                continue
            }
            if events[earlier].raw != event.raw {
                conflicts.append((index, FieldIssue(
                    field: "id", message: "\"\(event.id)\" from \(event.source) is also event \(earlier + 1) of this request, with other content; ids must be unique per source")))
            }
        }
        return conflicts
    }
}

/// Why an event was refused at the door; every issue names its field.
public struct EventValidationError: Error, Sendable, CustomStringConvertible {
    public let code = "invalid_event"
    public var issues: [FieldIssue]

    public init(_ issues: [FieldIssue]) {
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "; ") }
}
