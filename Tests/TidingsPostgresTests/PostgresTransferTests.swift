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
