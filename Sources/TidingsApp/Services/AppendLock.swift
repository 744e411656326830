import Foundation
import TidingsStore
#if canImport(Glibc)
import Glibc
#endif

/// Held by a `tidings append` while it stages its events: the kernel drops it when the process
/// dies, however it dies, so the daemon and the next append know the staged events of a dead
/// append can go.
public final class AppendLock: Sendable {
    let descriptor: Int32
    public let path: String

    public init(databasePath: String, id: String) throws {
        path = Self.path(databasePath, id)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw DaemonError(.lockFailed, "cannot lock \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        unlink(path)
        close(descriptor)
    }

    /// Whether the append's process is gone: nobody holds its lock.
    public static func isGone(databasePath: String, id: String) -> Bool {
        let path = path(databasePath, id)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return true }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        unlink(path)
        return true
    }

    static func path(_ databasePath: String, _ id: String) -> String {
        LockFile.path(besideDatabase: databasePath, suffix: ".append-\(id).lock")
    }
}
