import Foundation
import GRDB

/// Copies the write-ahead log back into the database file on a connection of its own, so that
/// the daemon's writer never does it. SQLite otherwise checkpoints inside the commit that takes
/// the log past 1,000 pages: in a catch-up that copying (with its writes and the file's sync)
/// was three fifths of the writer's commit time and a quarter of all its time, and an ingest
/// request whose commit met it waited for it. A passive checkpoint waits for no one, takes no
/// write lock, and copies what no reader still needs; the writer then starts the log afresh.
///
/// While these run, the writer's own automatic checkpoint stays on as a backstop, at a size
/// it reaches only if they fall behind (a reader holding an old snapshot, a slow disk), and
/// it is set back when they stop (the setting is the connection's: it ends with the process).
public final class WALCheckpoints: Sendable {
    /// The writer's automatic checkpoint while these run: 16,000 pages (64 MB of log).
    public static let backstopPages = 16_000
    /// SQLite's default, restored when they stop.
    public static let defaultPages = 1_000

    let connection: DatabaseQueue
    let writer: DatabasePool

    init(path: String, writer: DatabasePool) throws {
        do {
            var configuration = Store.configuration
            configuration.label = "tidings-checkpoints"
            connection = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError(.cannotOpen, "cannot open a connection to checkpoint \(path): \(error)")
        }
        self.writer = writer
    }

    /// Hands checkpoints over from the writer's commits to `checkpoint()`.
    public func takeOver() async throws { try await setWriterAutomaticCheckpoint(Self.backstopPages) }

    /// Gives them back to the writer's commits.
    public func handBack() async throws { try await setWriterAutomaticCheckpoint(Self.defaultPages) }

    func setWriterAutomaticCheckpoint(_ pages: Int) async throws {
        do {
            try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = \(pages)") }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StoreError(.writeFailed, "setting the writer's automatic checkpoint failed: \(error)")
        }
    }

    /// The writer's automatic checkpoint, in pages (for tests).
    public func writerAutomaticCheckpoint() async throws -> Int {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 0 }
    }

    /// One passive checkpoint: the pages in the log, and how many of them are in the database
    /// file now. Another checkpoint under way (another process's) is not an error: nil.
    public func checkpoint() async throws -> (log: Int, copied: Int)? {
        do {
            return try await connection.writeWithoutTransaction { db in
                let result = try db.checkpoint(.passive)
                return (result.walFrameCount, result.checkpointedFrameCount)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StoreError(.writeFailed, "checkpointing the write-ahead log failed: \(error)")
        }
    }
}

extension Store {
    /// A connection of its own that checkpoints the log for the writer (`WALCheckpoints`).
    public func walCheckpoints() throws -> WALCheckpoints {
        try WALCheckpoints(path: path, writer: pool)
    }
}
