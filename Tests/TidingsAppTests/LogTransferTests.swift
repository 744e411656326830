import Foundation
import GRDB
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// `tidings export` and `tidings import` between SQLite databases: the log comes out the same,
/// the read models and timers are those of the database it came from, nothing is sent again,
/// and what comes next gets the same messages, under the same keys, in both.
@Suite("Moving the log: export and import")
struct LogTransferTests {
    static func export(_ path: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        _ = try await LogTransfer.export(.sqlite(path: path), durability: .normal) { bytes += $0 }
        return bytes
    }

    static func runtime(_ base: Runtime, path: String) throws -> Runtime {
        var config = base.config
        config.database = .sqlite(path: path)
        config.databasePath = path
        config.durability = .normal
        return try Runtime.load(config: config)
    }

    static func rows(_ store: Store, _ table: String) throws -> [Row] {
        try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1") }
    }

    @Test func theExampleDayMovesWithItsModelsAndNothingIsSentAgain() async throws {
        let (base, original) = try await ExampleDayOutboxTests.projectedDay()
        let exported = try await Self.export(original.path)
        let directory = try Paths.temporaryDirectory("import")
        let file = directory.appendingPathComponent("day.ndjson")
        try Data(exported).write(to: file)
        let moved = try Self.runtime(base, path: directory.appendingPathComponent("moved.sqlite").path)
        let later = ExampleDayOutboxTests.start.addingTimeInterval(61 * 86_400)

        let summary = try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: moved, now: later)
        let lines = exported.split(separator: UInt8(ascii: "\n")).count
        #expect(summary.events == lines && lines > 50 && summary.rebuilt?.customers ?? 0 > 0)
        let store = try Store(path: moved.config.databasePath, durability: .normal)
        #expect(try await Self.export(store.path) == exported)
        #expect(try store.messages(limit: 10).isEmpty)
        for table in ["customers", "orders", "tickets", "timers"] {
            #expect(try Self.rows(store, table) == Self.rows(original, table), "\(table) differs after the import")
        }

        // What comes next is told the same way, under the same keys, by both.
        let complaint = CloudEvent(id: "after-the-move", source: "urn:northwind:shop", type: "ticket.opened", subject: "t-move", time: later,
                                   data: ["customer_id": "c-1005", "kind": "complaint", "summary": "The gift wrap was torn", "channel": "email"])
        let before = Set(try original.messages(limit: 100_000).map(\.key))
        for target in [original, store] {
            _ = try target.append([complaint], now: later)
            try ExampleDayOutboxTests.drain(target, base, later)
        }
        let new = try original.messages(limit: 100_000).filter { !before.contains($0.key) }
        let told = try store.messages(limit: 100_000)
        #expect(!new.isEmpty)
        #expect(told.map(\.key).sorted() == new.map(\.key).sorted())
        #expect(told.map(\.workflow).sorted() == new.map(\.workflow).sorted())
    }

    @Test func aBrokenFileImportsNothingAndAFullLogIsRefused() async throws {
        let directory = try Paths.temporaryDirectory("import-refused")
        let (base, original) = try await ExampleDayOutboxTests.projectedDay(jumps: [])
        var exported = try await Self.export(original.path)
        exported += Array("{\"id\":\"x\",\"source\":\"s\",\"type\":\"order.placed\"}\n".utf8)
        let file = directory.appendingPathComponent("broken.ndjson")
        try Data(exported).write(to: file)
        let moved = try Self.runtime(base, path: directory.appendingPathComponent("moved.sqlite").path)
        await #expect {
            try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: moved, now: Date())
        } throws: { "\($0)".contains("imported nothing") && "\($0)".contains("tidingsrecordedat") }
        let store = try Store(path: moved.config.databasePath, durability: .normal)
        #expect(try await store.head() == 0)

        let full = try Self.runtime(base, path: original.path)
        await #expect {
            try await LogTransfer.importLog(LineReader(handle: try FileHandle(forReadingFrom: file)), into: full, now: Date())
        } throws: { "\($0)".contains("is not empty") }
    }
}
