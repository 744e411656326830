import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log lines on stderr. Metadata is formatted only when a line is written:
/// swift-log's `StreamLogHandler` formats it again each time it is set, and Hummingbird sets a
/// request id on every request's logger, which cost about 3% of the daemon's time for
/// single-event requests. No metadata provider is bootstrapped, so none is asked.
public struct LineLogHandler: LogHandler {
    public enum Style: Sendable {
        /// For the systemd journal: `<4>warning tidings: key=value [Module] message`. Each line
        /// starts with its syslog priority, which journald reads from a service's stderr, so
        /// `journalctl -p warning` finds the warnings and errors; no time, the journal keeps its own.
        case journal
        /// For a terminal, as `StreamLogHandler` wrote it:
        /// `2026-12-07T13:10:00+0000 info tidings: key=value [Module] message`.
        case terminal
    }

    public let label: String
    public let style: Style
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, style: Style) {
        self.label = label
        self.style = style
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        Self.write(line(for: event, time: Self.timestamp))
    }

    /// The event's line in this handler's style: the handler's metadata, then the event's own
    /// over it, then its error's (`error.message`, `error.type`), as `StreamLogHandler` merged them.
    func line(for event: LogEvent, time: () -> String) -> String {
        var merged = metadata
        if let own = event.metadata { merged.merge(own) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let message = "\(event.message)"
        switch style {
        case .journal:
            return Self.journalLine(level: event.level, label: label, metadata: merged, source: event.source, message: message)
        case .terminal:
            return Self.terminalLine(time: time(), level: event.level, label: label, metadata: merged, source: event.source, message: message)
        }
    }

    /// A journal line: the priority in front, the message on one line.
    static func journalLine(level: Logger.Level, label: String, metadata: Logger.Metadata, source: String, message: String) -> String {
        let printable = message.replacingOccurrences(of: "\n", with: " ")
        return "<\(Journal.priority(level))>\(body(level: level, label: label, metadata: metadata, source: source, message: printable))"
    }

    static func terminalLine(time: String, level: Logger.Level, label: String, metadata: Logger.Metadata, source: String,
                             message: String) -> String {
        "\(time) \(body(level: level, label: label, metadata: metadata, source: source, message: message))"
    }

    private static func body(level: Logger.Level, label: String, metadata: Logger.Metadata, source: String, message: String) -> String {
        let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(level)\(label.isEmpty ? "" : " ")\(label):\(fields.isEmpty ? "" : " " + fields) [\(source)] \(message)\n"
    }

    /// Local time, to the second, with the zone's offset.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        var buffer = [CChar](repeating: 0, count: 64)
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        guard count > 0 else { return "<unknown>" }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One `write` per line where the kernel takes it whole (on a pipe, any line up to 4 KB), so
    /// lines from several threads do not interleave; unbuffered, so nothing waits for a flush.
    static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, base + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
