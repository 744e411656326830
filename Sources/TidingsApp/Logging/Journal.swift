import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Whether stderr goes to the journal, and the priority a line carries there.
public enum Journal {
    /// systemd sets `JOURNAL_STREAM` to the device and inode of the stream it connected to the
    /// service's stderr; a match means nobody redirected stderr elsewhere since.
    public static let isStandardError: Bool = connected(environment: ProcessInfo.processInfo.environment, descriptor: 2)

    static func connected(environment: [String: String], descriptor: Int32) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// The syslog priority journald gives a line with this prefix.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A command's fatal message (bad configuration, say): at error priority under the journal.
    public static func errorLine(_ text: String) -> String {
        isStandardError ? prefixed(text, priority: 3) : text
    }

    /// Each line of `text` with the priority in front.
    static func prefixed(_ text: String, priority: Int) -> String {
        let ended = text.hasSuffix("\n")
        let lines = (ended ? text.dropLast() : Substring(text)).split(separator: "\n", omittingEmptySubsequences: false)
        return lines.map { "<\(priority)>\($0)" }.joined(separator: "\n") + (ended ? "\n" : "")
    }
}
