import CSQLiteConfig
import Foundation
import GRDB
import TidingsCore

/// The SQLite database behind Tidings: the append-only event log, the read models, the
/// outbox and the pipeline checkpoint. One writer connection, WAL readers, durable commits.
public final class Store: Sendable {
    /// How hard commits wait for the disk. `full` is the default: an accepted event survives a
    /// power cut. `normal` is for tests and benchmarks that accept losing the last commits.
    public enum Durability: String, Sendable {
        case full = "FULL", normal = "NORMAL"
    }

    /// How many times a connection asks again, a millisecond apart, for a lock another
    /// process holds: 15 s in all.
    static let busyTries = 15_000

    public let pool: DatabasePool
    public let path: String
    /// The synchronous setting the writer runs at (`database.synchronous`).
    let durability: Durability
    /// Read models the pipeline decoded, kept across its batches.
    let models = ModelCache()
    /// What the pipeline read ahead for its next batch.
    let lookahead = LookaheadSlot()
    /// Customers' keys for sealing ingest's events before they reach the writer.
    let sealingKeys = SealingKeys()

    /// SQLite set up once per process, before its first connection: allocations without
    /// statistics, which took a global mutex around each (`CSQLiteConfig`; 4% of an append's
    /// writer was `pthread_mutex_lock` and `unlock`). Too late (SQLite in use) changes nothing.
    static let sqliteConfigured: Void = {
        _ = tidings_sqlite_no_memstatus()
    }()

    public init(path: String, durability: Durability = .full) throws {
        _ = Self.sqliteConfigured
        self.path = path
        self.durability = durability
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StoreError(.cannotOpen, "cannot create the database directory \(directory): \(error.localizedDescription)")
            }
        }
        let configuration = Self.configuration
        do {
            // Processes that open one database at once (`serve` and a `status` beside it) take
            // turns: SQLite refuses, without waiting, to switch a fresh file to WAL while another
            // connection reads it, and GRDB reads which migrations are applied before it starts
            // each one, so the second process would run a migration the first just applied.
            pool = try LockFile.exclusively(LockFile.path(besideDatabase: path, suffix: ".open.lock")) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                // GRDB sets synchronous=NORMAL when it enables WAL; set ours afterwards.
                try pool.barrierWriteWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)")
                    try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
                }
                try Schema.migrator.migrate(pool)
                return pool
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.cannotOpen, "cannot open the database at \(path): \(error)")
        }
    }

    /// How every connection of ours is opened: the pool's, and the one that checkpoints the log.
    static var configuration: Configuration {
        var configuration = Configuration()
        // Another process (`tidings append` beside `tidings serve`) may hold the write lock.
        // Asked again every millisecond, for up to 15 s: SQLite's own busy timeout sleeps in
        // growing steps of up to 100 ms, and an append that takes the lock again at once after
        // each commit kept a request out for a second and more (bench scenario 8).
        configuration.busyMode = .callback { tries in
            guard tries < Self.busyTries else { return false }
            usleep(1_000)
            return true
        }
        configuration.label = "tidings"
        // GRDB's default (.userInitiated) asks libdispatch for a raised thread priority, which
        // an unprivileged service is refused; it then logs "Failed to set thread priority".
        configuration.qos = .default
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -16000")
            // What is deleted is overwritten with zeros, not left in free pages: a forgotten
            // customer's models, contexts and key must not stay readable in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return configuration
    }

    /// The synchronous setting in force on the writer connection (for tests and `status`).
    public func synchronousMode() throws -> Int {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }
}

/// Errors of the storage domain, each with a code and a message a person can act on.
public struct StoreError: DomainError {
    public enum Code: String, Sendable {
        case cannotOpen = "store.cannot_open"
        case writeFailed = "store.write_failed"
        case readFailed = "store.read_failed"
        case corruptRow = "store.corrupt_row"
        case invalidRequest = "store.invalid_request"
        case keyConflict = "store.key_conflict"
        case unreadableEvent = "store.unreadable_event"
        case busy = "store.busy"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension Store {
    /// Runs a write transaction and turns database errors into `StoreError`s with context.
    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw Self.failure(error, .writeFailed, what) }
    }

    /// The same, suspended rather than blocking its thread while the writer is busy: what the
    /// daemon's services use, so that a batch being written never holds a cooperative thread.
    func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.failure(error, .writeFailed, what) }
    }

    /// A write whose loss in a power cut costs a message sent again under its own key, never a
    /// message: the dispatcher's results and claims, and a fan-out's pipeline batches (what they
    /// write follows from the log, and is applied again). It commits without waiting for the disk
    /// (`synchronous = NORMAL` for its transaction alone); the next commit that does wait, or
    /// the next checkpoint, makes it durable with everything before it, since the log is
    /// written in order. A killed process loses nothing either way: the commit is in the log.
    func writeWithoutSync<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard durability == .full else { return try await write(what, body) }
        // In a task of its own: a cancelled access makes GRDB refuse every statement but a
        // rollback, so the setting could not be put back, and a commit could be reported failed.
        let pool = self.pool
        do {
            return try await Task {
                try await pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(Durability.normal.rawValue)")
                    let outcome = Result { () throws -> T in
                        var result: T?
                        try db.inTransaction {
                            result = try body(db)
                            return .commit
                        }
                        guard let result else { throw StoreError(.writeFailed, "\(what) returned nothing") }
                        return result
                    }
                    // Committed or not, the writer goes back to waiting for the disk.
                    try db.execute(sql: "PRAGMA synchronous = \(Durability.full.rawValue)")
                    return try outcome.get()
                }
            }.value
        } catch {
            throw Self.failure(error, .writeFailed, what)
        }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.failure(error, .readFailed, what) }
    }

    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.failure(error, .readFailed, what) }
    }

    /// Our own errors pass as they are (an event the pipeline must set aside among them); a
    /// database error says what was being done.
    static func failure(_ error: any Error, _ code: StoreError.Code, _ what: String) -> any Error {
        if error is StoreError || error is EventFailure { return error }
        return StoreError(code, "\(what) failed: \(error)")
    }
}
