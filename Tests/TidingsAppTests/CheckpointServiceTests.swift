import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing
@testable import TidingsApp
import TidingsStore

/// The daemon's checkpoints of the write-ahead log run as a service beside the writer, and
/// give the job back to the writer's commits when the daemon stops.
@Suite("Checkpoint service")
struct CheckpointServiceTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-ckpt-\(UUID().uuidString)")

    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "waited 60 s for \(what)" }
    }

    /// Polls `condition` until it holds; throws, saying what it waited for, after 60 s: the
    /// whole suite runs in parallel on two cores, and a slow turn must not fail the test.
    func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func copiesTheLogBesideTheWriterAndGivesItBackWhenStopped() async throws {
        let store = try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let checkpoints = try store.walCheckpoints()
        let logger = Logger(label: "test")
        let service = CheckpointService(checkpoints: checkpoints, logger: logger, busyInterval: .milliseconds(1), idleInterval: .milliseconds(5))
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let size = { try #require(try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await until("the service to take checkpoints over") {
                    try await checkpoints.writerAutomaticCheckpoint() == WALCheckpoints.backstopPages
                }
                let before = try size()
                try await store.pool.write { db in
                    try db.execute(sql: "CREATE TABLE scratch (b BLOB)")
                    for _ in 0..<1_500 { try db.execute(sql: "INSERT INTO scratch (b) VALUES (randomblob(4000))") }
                }
                // Copied into the database file by the service, not by the commit.
                try await until("the log to be copied into the database file") { try size() > before + 5_000_000 }
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await checkpoints.writerAutomaticCheckpoint() == WALCheckpoints.defaultPages)
        try? FileManager.default.removeItem(at: directory)
    }
}
