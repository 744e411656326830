import Foundation
import GRDB
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// The example day's outbox, as the shipped configuration makes it, against a record taken
/// before the pipeline was rebuilt (commit c2b8c4b): the same keys, workflows, routes, states
/// and rendered words. A refactor of the projection path must not change what customers get.
@Suite("The example day's outbox")
struct ExampleDayOutboxTests {
    static let recordPath = Paths.root.appendingPathComponent("Tests/Records/example-day-outbox.txt")

    /// Through the daemon's path as well, where a batch is read ahead while the one before it
    /// is applied (`Lookahead`).
    @Test(arguments: [false, true]) func isTheSameAsBeforeThePipelineWasRebuilt(readingAhead: Bool) async throws {
        let lines = try await Self.outbox(readingAhead: readingAhead)
        let recorded = try String(contentsOf: Self.recordPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count > 50)
        let missing = recorded.filter { !lines.contains($0) }
        let added = lines.filter { !recorded.contains($0) }
        #expect(missing.isEmpty && added.isEmpty, "missing: \(missing)\nadded: \(added)")
    }

    /// One line per message, sorted by key.
    static func outbox(readingAhead: Bool = false) async throws -> [String] {
        let (runtime, store) = try await projectedDay(readingAhead: readingAhead)
        let rendered = try store.pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, template, channel, locale, (SELECT context FROM message_contexts WHERE message_id = messages.id) AS context FROM messages").map { row in
                (row["key"] as String, row)
            })
        }
        return try store.messages(limit: 100_000).map { message in
            var words = "-"
            if let row = rendered[message.key], let name = row["channel"] as String?, let channel = Channel(rawValue: name) {
                let context = try JSONValue.parse(Array(row["context"] as Data))
                let text = try runtime.catalog.render(template: row["template"], channel: channel, locale: row["locale"], context: context)
                words = fingerprint([text.subject ?? "", text.text, text.html ?? ""].joined(separator: "\u{1}"))
            }
            return [message.key, message.workflow, message.customerID, message.subjectID ?? "-", message.channel ?? "-",
                    message.recipient ?? "-", message.state.rawValue, message.lastError ?? "-", words].joined(separator: " | ")
        }.sorted()
    }

    /// The example day appended and projected on a fixed clock; the deadlines it promises
    /// fire a day, a week and two months later.
    static func projectedDay(jumps: [TimeInterval] = [86_400, 7 * 86_400, 60 * 86_400], readingAhead: Bool = false) async throws
        -> (Runtime, Store)
    {
        let directory = try Paths.temporaryDirectory("example-day")
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal"]) { $1 }
        let runtime = try await Runtime.load(configPath: env["TIDINGS_CONFIG"]!, environment: env)
        let store = try Store(path: runtime.config.databasePath, durability: .normal)
        let day = try String(contentsOf: Paths.root.appendingPathComponent("config/examples/day.ndjson"), encoding: .utf8)
        let events = try day.split(separator: "\n").map { line -> CloudEvent in
            let parsed = try JSONValue.parse(Array(line.utf8))
            return try EventValidator.validate(parsed).get()
        }
        _ = try store.append(events, now: start)
        try await drain(store, runtime, start, readingAhead: readingAhead)
        for jump in jumps {
            let now = start.addingTimeInterval(jump)
            while try store.fireDueTimers(now: now).timers > 0 {}
            try await drain(store, runtime, now, readingAhead: readingAhead)
        }
        return (runtime, store)
    }

    static let start = Timestamp.parse("2026-11-18T12:00:00Z")!

    /// As `drain`, through the daemon's path (`PipelineStore`), which reads each batch ahead.
    static func drain(_ store: Store, _ runtime: Runtime, _ now: Date, readingAhead: Bool) async throws {
        guard readingAhead else { return try drain(store, runtime, now) }
        while true {
            let batch = try await store.processBatch(limit: 7, engine: runtime.engine, now: { now }, fanoutLimit: 3)
            if batch.processed == 0 && !batch.fanoutPending { return }
        }
    }

    /// Small batches and fan-out chunks, so that the day crosses many of them.
    static func drain(_ store: Store, _ runtime: Runtime, _ now: Date) throws {
        while true {
            let batch = try store.processBatch(limit: 7, engine: runtime.engine, now: now, fanoutLimit: 3)
            if batch.processed == 0 && !batch.fanoutPending { return }
        }
    }

    /// FNV-1a over the rendered words: enough to see that they changed, short enough to keep.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
