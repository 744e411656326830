import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log lines on stderr, one `write` per line so that lines from several threads
/// never interleave. Metadata is formatted only when a line is written: swift-log's
/// `StreamLogHandler` formats it again each time it is set, and Hummingbird sets a request id on
/// every request's logger, which cost about 3% of the daemon's time for single-event requests.
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
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        let message = "\(event.message)"
        switch style {
        case .journal:
            Journal.write(Self.journalLine(level: event.level, label: label, metadata: merged, source: event.source, message: message))
        case .terminal:
            Journal.write(Self.terminalLine(time: Self.timestamp(), level: event.level, label: label, metadata: merged, source: event.source,
                                            message: message))
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
        return "\(level) \(label):\(fields.isEmpty ? "" : " " + fields) [\(source)] \(message)\n"
    }

    /// Local time, to the second, with the zone's offset.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
