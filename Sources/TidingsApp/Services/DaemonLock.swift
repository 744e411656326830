import Foundation
import TidingsCore
import TidingsStore
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per database. While `tidings serve` holds this lock no other daemon can have a
/// send in flight, so claims left over from a previous run are known to be interrupted and can
/// be sent again at once rather than after their lease. The kernel drops the lock when the
/// process dies, however it dies.
public final class DaemonLock: Sendable {
    let descriptor: Int32
    public let path: String

    public init(databasePath: String) throws {
        let directory = (databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        path = Self.lockPath(databasePath)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DaemonError(.lockFailed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw DaemonError(.alreadyRunning, "another `tidings serve`\(holder.isEmpty ? "" : " (pid \(holder))") is using \(databasePath); stop it first, or point this one at another database")
        }
        // The holder's pid, for the message above; informative only.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        close(descriptor)
    }

    static func lockPath(_ databasePath: String) -> String {
        LockFile.path(besideDatabase: databasePath, suffix: ".lock")
    }

    /// Whether a `tidings serve` holds the lock of this database now, for commands that wait
    /// for the running daemon (`clock set`, `events retry`).
    public static func isHeld(databasePath: String) -> Bool {
        let descriptor = open(lockPath(databasePath), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }
}

/// Errors of running the daemon.
public struct DaemonError: DomainError {
    public enum Code: String, Sendable {
        case alreadyRunning = "daemon.already_running"
        case lockFailed = "daemon.lock_failed"
        case serviceFailed = "daemon.service_failed"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
