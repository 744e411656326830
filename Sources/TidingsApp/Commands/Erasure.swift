import Foundation
import TidingsCore
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
        /// Free pages left from before `secure_delete` that the first forget wiped (by VACUUM), if any.
        public var freePagesZeroed: Int
    }

    public static func forget(customerID: String, store: Store, config: TidingsConfig, now: Date) throws -> Report {
        let summary = try store.forget(customerID: customerID, eventID: "forget-\(UUID().uuidString.lowercased())", now: now)
        let (removed, left) = SpoolFiles.remove(keys: summary.keys, directory: config.spoolDirectory)
        try store.dropRebuildLeftovers()
        let zeroed = try store.zeroOldFreePages()
        return Report(summary: summary, spoolFilesRemoved: removed, spoolFilesLeft: left, logEmptied: try store.truncateLog(),
                      freePagesZeroed: zeroed)
    }
}
