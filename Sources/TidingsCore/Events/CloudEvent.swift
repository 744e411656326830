import Foundation

/// A CloudEvents 1.0 event as Tidings stores it: the envelope attributes it relies on,
/// plus the whole original JSON object so nothing a producer sent is lost.
public struct CloudEvent: Sendable, Hashable {
    public var id: String
    public var source: String
    public var type: String
    public var subject: String?
    public var time: Date?
    public var data: JSONValue
    /// The complete event object as received (extensions included).
    public var raw: JSONValue

    public init(id: String, source: String, type: String, subject: String?, time: Date?, data: JSONValue, raw: JSONValue? = nil) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.data = data
        self.raw = raw ?? CloudEvent.envelope(id: id, source: source, type: type, subject: subject, time: time, data: data)
    }

    static func envelope(id: String, source: String, type: String, subject: String?, time: Date?, data: JSONValue) -> JSONValue {
        var fields: JSONObject = [
            "specversion": "1.0", "id": .string(id), "source": .string(source), "type": .string(type),
            "datacontenttype": "application/json", "data": data,
        ]
        if let subject { fields["subject"] = .string(subject) }
        if let time { fields["time"] = .string(Timestamp.format(time)) }
        return .object(fields)
    }
}

/// An event read back from the log, with its global position and the time it was recorded.
public struct StoredEvent: Sendable, Hashable {
    public var position: Int64
    public var recordedAt: Date
    public var event: CloudEvent

    public init(position: Int64, recordedAt: Date, event: CloudEvent) {
        self.position = position
        self.recordedAt = recordedAt
        self.event = event
    }

    /// When the event happened: the producer's `time`, else when it was recorded. Never the
    /// wall clock, so a replay reaches the same state.
    public var effectiveTime: Date { event.time ?? recordedAt }
}

extension CloudEvent {
    /// Reads back an event that was validated when it was appended, its data upcast to the
    /// current shape (`Upcasting`). Lenient on purpose: a stricter validator in a later version
    /// must never strand events already in the log, so a version it cannot read (stored before
    /// `dataversion` meant anything) is read as version 1: the steps only rename what is there.
    public init?(stored json: JSONValue) {
        guard case .object(let fields) = json, let id = fields["id"]?.stringValue, let source = fields["source"]?.stringValue,
              let type = fields["type"]?.stringValue
        else {
            return nil
        }
        let data = fields["data"] ?? .object([:])
        self.init(id: id, source: source, type: type, subject: fields["subject"]?.stringValue,
                  time: fields["time"]?.stringValue.flatMap(Timestamp.parse),
                  data: Upcasting.upcast(data, type: type, from: Upcasting.version(of: fields, type: type) ?? 1), raw: json)
    }
}

extension StoredEvent {
    /// An event as a backend stored it: its body, and the customer whose key sealed its personal
    /// fields with that key (nil once forgotten: the fields read as absent). Nil when the body is
    /// not a readable event; the pipeline quarantines it and goes on.
    public init?(position: Int64, recordedAt: Date, body: Data, sealedFor: String?, key: Data?) {
        guard var json = try? JSONValue.parse(body) else { return nil }
        if let sealedFor, let type = json["type"]?.stringValue {
            json = Sealing.open(json, type: type, customerID: sealedFor, key: key)
        }
        guard let event = CloudEvent(stored: json) else { return nil }
        self.init(position: position, recordedAt: recordedAt, event: event)
    }
}
