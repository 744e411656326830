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
    public static func validate(_ json: JSONValue) -> Result<CloudEvent, EventValidationError> {
        guard case .object(let fields) = json else {
            return .failure(EventValidationError([FieldIssue(field: "(event)", message: "must be a JSON object, got \(json.kindName)")]))
        }
        var issues: [FieldIssue] = []
        func requiredString(_ name: String) -> String? {
            guard let value = fields[name] else {
                issues.append(FieldIssue(field: name, message: "is required"))
                return nil
            }
            guard let text = value.stringValue, !text.isEmpty else {
                issues.append(FieldIssue(field: name, message: "must be a non-empty string"))
                return nil
            }
            return text
        }
        let specversion = requiredString("specversion")
        if let specversion, specversion != "1.0" {
            issues.append(FieldIssue(field: "specversion", message: "must be \"1.0\", got \"\(specversion)\""))
        }
        let id = requiredString("id")
        let source = requiredString("source")
        let type = requiredString("type")
        var subject: String?
        if let value = fields["subject"] {
            if let text = value.stringValue, !text.isEmpty { subject = text } else {
                issues.append(FieldIssue(field: "subject", message: "must be a non-empty string"))
            }
        }
        var time: Date?
        if let value = fields["time"] {
            if let text = value.stringValue, let date = Timestamp.parse(text) { time = date } else {
                issues.append(FieldIssue(field: "time", message: "must be an RFC 3339 timestamp such as 2026-11-23T09:30:00Z"))
            }
        }
        if let contentType = fields["datacontenttype"]?.stringValue, !contentType.lowercased().contains("json") {
            issues.append(FieldIssue(field: "datacontenttype", message: "must be a JSON media type, got \"\(contentType)\""))
        }
        // The contract: `data` is a JSON object, whatever the type.
        let data = fields["data"] ?? .object([:])
        guard case .object = data else {
            issues.append(FieldIssue(field: "data", message: "must be a JSON object, got \(data.kindName)"))
            return .failure(EventValidationError(issues))
        }
        if let type, let schema = EventCatalogue.schema(for: type) {
            if schema.needsSubject && subject == nil {
                issues.append(FieldIssue(field: "subject", message: "is required for \(type): it names the \(schema.entity) the event is about"))
            }
            issues.append(contentsOf: schema.check(data))
        }
        guard issues.isEmpty, let id, let source, let type else {
            return .failure(EventValidationError(issues))
        }
        return .success(CloudEvent(id: id, source: source, type: type, subject: subject, time: time, data: data, raw: json))
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
