import Foundation

/// The log as `tidings export` writes it and `tidings import` reads it: one CloudEvent per line
/// (NDJSON), in the log's order, each as stored (its data in the shape it came in, personal fields opened;
/// those of a forgotten customer stay absent), with one extension attribute,
/// `tidingsrecordedat`: when the log recorded it, as seconds since 1970 written exactly, since
/// an event without `time` takes its deadlines from that moment.
public enum LogExport {
    public static let recordedAttribute = "tidingsrecordedat"

    /// One line of the file, newline included.
    public static func line(_ stored: StoredEvent) throws -> [UInt8] {
        var raw = stored.event.raw
        raw[recordedAttribute] = .string(String(stored.recordedAt.timeIntervalSince1970))
        var bytes = try raw.encodedBytes()
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// An event of an export and when it was recorded. Lenient as the log is (`CloudEvent(stored:)`):
    /// the daemon's own events (deadlines, forgotten customers) belong to the log too, which
    /// ingest would refuse.
    public static func event(line: ArraySlice<UInt8>, number: Int) throws -> (event: CloudEvent, recordedAt: Date) {
        guard var raw = try? JSONValue.parse(line) else {
            throw LogExportError("line \(number) is not JSON: is this a file `tidings export` wrote?")
        }
        guard let text = raw[recordedAttribute]?.stringValue, let seconds = Double(text), seconds.isFinite else {
            throw LogExportError("line \(number) has no \(recordedAttribute) (seconds since 1970): is this a file `tidings export` wrote?")
        }
        raw[recordedAttribute] = nil
        guard let event = CloudEvent(stored: raw) else {
            throw LogExportError("line \(number) is not a CloudEvent with id, source and type")
        }
        return (event, Date(timeIntervalSince1970: seconds))
    }
}

public struct LogExportError: DomainError {
    public enum Code: String, Sendable { case unreadableLine = "export.unreadable_line" }

    public var code = Code.unreadableLine
    public var message: String

    public init(_ message: String) { self.message = message }
}
