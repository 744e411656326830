import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// The write-ahead log is copied into the database file by a connection of its own while the
/// daemon runs, not by the writer's commits; the writer's own checkpoint stays as a backstop.
@Suite("Store: checkpoints beside the writer")
struct WALCheckpointsTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-wal-\(UUID().uuidString)")

    func fileSize(_ store: Store) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int)
    }

    /// About 1,500 pages of log in one commit: past SQLite's automatic checkpoint of 1,000.
    func writeLog(_ store: Store) async throws {
        try await store.pool.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS scratch (b BLOB)")
            for _ in 0..<1_500 { try db.execute(sql: "INSERT INTO scratch (b) VALUES (randomblob(4000))") }
        }
    }

    @Test func theWriterLeavesTheLogToThemWhileTheyRun() async throws {
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let checkpoints = try store.walCheckpoints()
        try await checkpoints.takeOver()
        #expect(try await checkpoints.writerAutomaticCheckpoint() == WALCheckpoints.backstopPages)

        let before = try fileSize(store)
        try await writeLog(store)
        // The commit did not copy its pages into the database file ...
        #expect(try fileSize(store) < before + 1_000_000)
        // ... a checkpoint beside it does, all of them.
        let (log, copied) = try #require(try await checkpoints.checkpoint())
        #expect(log >= 1_500 && copied == log)
        #expect(try fileSize(store) > before + 5_000_000)
        // The log starts afresh at the next commit, and nothing was lost.
        try await store.pool.write { db in try db.execute(sql: "INSERT INTO scratch (b) VALUES (x'00')") }
        let (afresh, _) = try #require(try await checkpoints.checkpoint())
        #expect(afresh < 10)
        let rows = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM scratch") }
        #expect(rows == 1_501)

        try await checkpoints.handBack()
        #expect(try await checkpoints.writerAutomaticCheckpoint() == WALCheckpoints.defaultPages)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func withoutThemTheWriterCheckpointsInItsCommit() async throws {
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let before = try fileSize(store)
        try await writeLog(store)
        #expect(try fileSize(store) > before + 5_000_000)
        try? FileManager.default.removeItem(at: directory)
    }
}
