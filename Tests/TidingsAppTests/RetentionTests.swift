import Foundation
import GRDB
import Logging
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// `outbox.retention`: what ended messages said is dropped once they ended that long ago; what
/// happened to them stays, and a dry run leaves them out rather than calling them changed.
@Suite("Retention of message contents")
struct RetentionTests {
    @Test func contentsOfEndedMessagesGoAfterTheRetentionAndTheirHistoryStays() async throws {
        let (runtime, store) = try await ExampleDayOutboxTests.projectedDay(jumps: [])
        let start = ExampleDayOutboxTests.start
        // As if the dispatcher had sent every pending message at the start of the day; one stays
        // dead (it may still be retried, so it keeps what it said).
        let (sent, dead) = try await store.pool.write { db -> (Int, Int64) in
            try db.execute(sql: "UPDATE messages SET state = 'sent', sent_at = ?1, updated_at = ?1 WHERE state = 'pending'",
                           arguments: [start.timeIntervalSince1970])
            let sent = db.changesCount
            let dead = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM messages WHERE state = 'sent'") ?? 0
            try db.execute(sql: "UPDATE messages SET state = 'dead' WHERE id = ?", arguments: [dead])
            return (sent, dead)
        }
        #expect(sent > 20)
        let spool = try Paths.temporaryDirectory("retention-spool")
        let keys = try store.messages(limit: 1_000).filter { $0.state == .sent }.map(\.key)
        let ended = try store.messages(limit: 1_000).filter { Retention.endedStates.contains($0.state) }.count
        #expect(ended > keys.count, "skipped and suppressed messages end too")
        let file = spool.appendingPathComponent("email/\(try #require(keys.first)).eml")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("To: someone".utf8).write(to: file)

        let before = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT id, key, state, recipient, sent_at FROM messages ORDER BY id") }
        let clock = ManualClock(start.addingTimeInterval(30 * 86_400 - 1))
        let service = RetentionService(store: store, retention: 30 * 86_400, spoolDirectory: spool.path, now: clock.now, logger: .init(label: "test"))
        #expect(try await service.sweep(chunk: 7) == 0, "nothing has been kept for 30 days yet")
        #expect(FileManager.default.fileExists(atPath: file.path))

        clock.advance(2)
        #expect(try await service.sweep(chunk: 7) == ended)
        #expect(!FileManager.default.fileExists(atPath: file.path), "the spool's copy goes with the context")
        let contexts = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, CAST(c.context AS TEXT) AS context, erased_at FROM messages JOIN message_contexts c ON c.message_id = messages.id ORDER BY id")
        }
        let erased = contexts.filter { ($0["erased_at"] as Double?) != nil }
        #expect(erased.count == ended && erased.allSatisfy { ($0["context"] as String) == "{}" })
        #expect(contexts.first { ($0["id"] as Int64) == dead }?["context"] as String? != "{}", "a dead message keeps its context")
        let after = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT id, key, state, recipient, sent_at FROM messages ORDER BY id") }
        #expect(after == before, "states, keys, recipients and times stay")
        #expect(try await service.sweep() == 0, "what is dropped is dropped once")

        // The dry run compares what is left: nothing added, removed or changed.
        let head = try await store.head()
        let (report, _) = try await DryRun.compare(store: store, live: runtime, candidate: runtime, positions: 1...head, now: start)
        #expect(report.added == 0 && report.removed == 0 && report.changed == 0)
    }

    @Test func theSettingIsADurationOfAtLeastAnHourOrOff() async throws {
        let path = Paths.root.appendingPathComponent("config/tidings.yaml").path
        #expect(try await ConfigLoader.load(path: path, environment: [:]).retention == nil)
        #expect(try await ConfigLoader.load(path: path, environment: ["OUTBOX_RETENTION": "90d"]).retention == 90 * 86_400)
        #expect(try await ConfigLoader.load(path: path, environment: ["OUTBOX_RETENTION": "off"]).retention == nil)
        await #expect(throws: ConfigError.self) { try await ConfigLoader.load(path: path, environment: ["OUTBOX_RETENTION": "30m"]) }
        await #expect(throws: ConfigError.self) { try await ConfigLoader.load(path: path, environment: ["OUTBOX_RETENTION": "soon"]) }
    }
}
