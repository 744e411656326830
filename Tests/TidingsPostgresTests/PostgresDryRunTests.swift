import Foundation
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres

/// `tidings replay --dry-run` on PostgreSQL: the log replayed in memory with the running
/// configuration decides, word for word, what the pipeline decided; a changed template shows
/// as changed messages, as on SQLite.
@Suite("PostgreSQL: a what-if replay, against SQLite", .timeLimit(.minutes(3)))
struct PostgresDryRunTests {
    typealias Pipeline = PostgresPipelineTests

    @Test func theDayReplaysAsItWasDecidedAndACandidateShowsItsChanges() async throws {
        let runtime = try Pipeline.runtime()
        var config = runtime.config
        let templates = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-candidate-\(UUID().uuidString)/templates")
        try FileManager.default.createDirectory(at: templates.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: PostgresTestCluster.root.appendingPathComponent("config/templates"), to: templates)
        for channel in ["email", "sms"] {
            let text = templates.appendingPathComponent("complaint_acknowledgement/en/\(channel).text.mustache")
            try Data((try String(contentsOf: text, encoding: .utf8) + "\nP.S. A new wording.\n").utf8).write(to: text)
        }
        config.templatesDirectory = templates.path
        let candidate = try Runtime.load(config: config)

        let events = try Pipeline.day()
        let now = Pipeline.start
        let (_, store) = try Pipeline.projectedOnSQLite(events, runtime, jumps: [])
        let head = try await store.checkpoint()
        let (same, _) = try await DryRun.compare(store: store, live: runtime, candidate: runtime, positions: 1...head, now: now)
        let (changed, _) = try await DryRun.compare(store: store, live: runtime, candidate: candidate, positions: 1...head, now: now)
        #expect(changed.rows.contains { $0.changed > 0 }, "the candidate changes the complaint acknowledgements: \(changed.rows)")

        try await PostgresTestCluster.withDatabase { backend in
            _ = try await Pipeline.postgres(events, runtime, backend, jumps: [])
            let pipeline = PostgresPipeline(log: PostgresLog(backend: backend))
            #expect(try await pipeline.checkpoint() == head)
            #expect(try await pipeline.positions(recordedFrom: nil, until: nil) == 1...head)
            let (samePG, replayed) = try await DryRun.compare(store: pipeline, live: runtime, candidate: runtime, positions: 1...head, now: now)
            let (changedPG, _) = try await DryRun.compare(store: pipeline, live: runtime, candidate: candidate, positions: 1...head, now: now)
            #expect(replayed == Int(head))
            #expect(samePG.rows == same.rows && same.rows.allSatisfy { $0.added + $0.removed + $0.changed == 0 })
            #expect(changedPG.rows == changed.rows)
        }
    }
}
