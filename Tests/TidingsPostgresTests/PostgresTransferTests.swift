import Foundation
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres

/// `tidings export` and `tidings import` on PostgreSQL: the example day in, and the same file out.
@Suite("PostgreSQL: export and import", .timeLimit(.minutes(5)))
struct PostgresTransferTests {
    static let root = PostgresTestCluster.root

    /// The example day as an export would hold it, each event recorded a minute after the one before.
    static func exampleExport() throws -> [UInt8] {
        let day = try String(contentsOf: root.appendingPathComponent("config/examples/day.ndjson"), encoding: .utf8)
        var bytes: [UInt8] = []
        for (index, line) in day.split(separator: "\n").enumerated() {
            let event = try #require(CloudEvent(stored: try JSONValue.parse(Array(line.utf8))))
            bytes += try LogExport.line(StoredEvent(position: Int64(index + 1), recordedAt: Date(timeIntervalSince1970: 1_795_000_000.125 + Double(index) * 60),
                                                    event: event))
        }
        return bytes
    }

    /// The example day, projected on SQLite through its deadlines and exported, imported into
    /// PostgreSQL: the same log comes out, the same read models and timers were made, and
    /// nothing waits to be sent.
    @Test func theExampleDayMovesFromSQLiteToPostgreSQL() async throws {
        let runtime = try PostgresPipelineTests.runtime()
        // A day on: some deadlines have fired, others still run.
        let (stages, store) = try PostgresPipelineTests.projectedOnSQLite(try PostgresPipelineTests.day(), runtime, jumps: [86_400])
        let expected = try #require(stages.last)
        #expect(!expected.timers.isEmpty && expected.models.count > 15)
        var exported: [UInt8] = []
        _ = try await LogTransfer.export(.sqlite(path: store.path), durability: .normal) { exported += $0 }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-pg-day-\(UUID().uuidString).ndjson")
        try Data(exported).write(to: file)
        try await PostgresTestCluster.withDatabase { backend in
            var moved = runtime
            moved.config.database = .postgres(backend.settings)
            // At the moment the SQLite day stands: its timers still to come are those SQLite holds.
            let summary = try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: moved,
                                                          now: PostgresPipelineTests.start.addingTimeInterval(86_400))
            #expect(summary.events == exported.split(separator: UInt8(ascii: "\n")).count)
            let outcome = try await PostgresPipelineTests.outcome(backend)
            #expect(outcome.messages.isEmpty)
            #expect(outcome.models == expected.models, "\(PostgresPipelineTests.difference(outcome.models, expected.models))")
            #expect(outcome.timers == expected.timers, "\(PostgresPipelineTests.difference(outcome.timers, expected.timers))")
            var out: [UInt8] = []
            _ = try await LogTransfer.export(moved.config.database, durability: .normal) { out += $0 }
            #expect(out == exported)
            #expect(try await PostgresPipeline(log: PostgresLog(backend: backend)).checkpoint() == Int64(summary.events))
        }
    }

    @Test func anExportGoesInAndComesOutTheSame() async throws {
        let exported = try Self.exampleExport()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-pg-import-\(UUID().uuidString).ndjson")
        try Data(exported).write(to: file)
        try await PostgresTestCluster.withDatabase { database in
            var config = TidingsConfig()
            config.database = .postgres(database.settings)
            config.workflowsPath = Self.root.appendingPathComponent("config/workflows.yaml").path
            config.templatesDirectory = Self.root.appendingPathComponent("config/templates").path
            let runtime = try Runtime.load(config: config)
            let summary = try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: runtime, now: Date())
            #expect(summary.events == exported.split(separator: UInt8(ascii: "\n")).count)
            var out: [UInt8] = []
            _ = try await LogTransfer.export(config.database, durability: .normal) { out += $0 }
            #expect(out == exported)
            await #expect {
                try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: runtime, now: Date())
            } throws: { "\($0)".contains("is not empty") }
        }
    }
}
