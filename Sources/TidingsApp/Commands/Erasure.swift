import Foundation
import TidingsCore
import TidingsPostgres
import TidingsStore

/// `tidings forget`: the store erases the customer; what the daemon wrote outside it (the
/// spool's files of their messages) goes too, and the write-ahead log is emptied, since it
/// holds the pages as they were before.
public enum Erasure {
    public struct Report: Sendable {
        public var summary: ForgetSummary
        public var spoolFilesRemoved: Int
        /// Spool files that could not be removed, with why: the operator must remove them.
        public var spoolFilesLeft: [String]
        /// False when readers kept the write-ahead log from being emptied.
        public var logEmptied: Bool
        /// False for a database from before deleted rows were overwritten, until `--wipe` ran.
        public var freeSpaceClean: Bool
    }

    /// `wipe` rewrites the database file afterwards (VACUUM), for a database from before deleted
    /// rows were overwritten; it needs the daemon stopped, and says so.
    public static func forget(customerID: String, store: Store, config: TidingsConfig, now: Date, wipe: Bool = false) throws -> Report {
        // Checked first, so that a refusal leaves nothing half done.
        let daemon = wipe ? try Self.daemonStopped(config) : nil
        let summary = try store.forget(customerID: customerID, eventID: "forget-\(UUID().uuidString.lowercased())", now: now)
        let (removed, left) = SpoolFiles.remove(keys: summary.keys, directory: config.spoolDirectory)
        try store.dropRebuildLeftovers()
        if wipe { try store.wipeFreeSpace() }
        withExtendedLifetime(daemon) {}
        return Report(summary: summary, spoolFilesRemoved: removed, spoolFilesLeft: left, logEmptied: try store.truncateLog(),
                      freeSpaceClean: try store.freeSpaceIsClean())
    }

    /// On PostgreSQL: the same erasure in one transaction, and the spool's files. The server
    /// overwrites deleted rows when (auto)vacuum reclaims them; there is no file of ours to wipe.
    public static func forget(customerID: String, postgres log: PostgresLog, config: TidingsConfig, now: Date) async throws -> Report {
        let summary = try await PostgresErasure(log: log).forget(customerID: customerID, eventID: "forget-\(UUID().uuidString.lowercased())",
                                                                now: now)
        let (removed, left) = SpoolFiles.remove(keys: summary.keys, directory: config.spoolDirectory)
        return Report(summary: summary, spoolFilesRemoved: removed, spoolFilesLeft: left, logEmptied: true, freeSpaceClean: true)
    }

    static func daemonStopped(_ config: TidingsConfig) throws -> DaemonLock {
        do {
            return try DaemonLock(databasePath: config.databasePath)
        } catch {
            throw DaemonError(.alreadyRunning, """
                --wipe rewrites the whole database file and holds the writer while it does: stop tidings serve first (\(error))
                """)
        }
    }
}
