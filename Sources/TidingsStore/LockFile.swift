import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Advisory locks that processes sharing one database take on files beside it: the daemon's
/// (one `serve` per database), each `append`'s, and the one a schema migration holds. The
/// kernel drops them when the process dies, however it dies.
public enum LockFile {
    /// A lock file beside the database file itself, found through any symbolic links, so two
    /// paths to one database share one lock. (Not the database file as opened: closing any
    /// descriptor of that file would drop SQLite's own POSIX locks on it.)
    public static func path(besideDatabase databasePath: String, suffix: String) -> String {
        func real(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        if let file = real(databasePath) { return file + suffix }
        let directory = (databasePath as NSString).deletingLastPathComponent
        let name = (databasePath as NSString).lastPathComponent
        return (real(directory.isEmpty ? "." : directory).map { $0 + "/" + name } ?? databasePath) + suffix
    }

    /// Runs `body` while holding the exclusive lock at `path`, waiting for another holder.
    static func exclusively<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.cannotOpen, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw StoreError(.cannotOpen, "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        return try body()
    }

    /// Runs `body` holding the lock at `path` if nobody holds it now; nil when somebody does.
    static func ifFree<T>(_ path: String, _ body: () throws -> T) throws -> T? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.cannotOpen, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return nil }
        return try body()
    }
}
