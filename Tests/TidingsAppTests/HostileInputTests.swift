import Foundation
import GRDB
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// No input may crash or stall the daemon: thousands of random and mutated CloudEvents go
/// through validation, into the log (and some straight into it, as a laxer older version could
/// have stored them), through the pipeline with its deadlines, and every message they cause is
/// rendered with the shipped templates. Seeds are fixed so a failure replays; `FUZZ_SEED` and
/// `FUZZ_ROUNDS` explore further.
@Suite("Hostile input: random and mutated CloudEvents")
struct HostileInputTests {
    func at(_ text: String) -> Date { Timestamp.parse(text)! }

    static var seeds: [UInt64] {
        ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init).map { [$0] } ?? [1, 2, 3]
    }

    @Test(arguments: seeds)
    func randomAndMutatedEventsNeitherCrashNorStallThePipeline(seed: UInt64) async throws {
        let rounds = ProcessInfo.processInfo.environment["FUZZ_ROUNDS"].flatMap(Int.init) ?? 1_500
        let directory = try Paths.temporaryDirectory("fuzz-\(seed)")
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal"]) { $1 }
        let runtime = try await Runtime.load(configPath: env["TIDINGS_CONFIG"]!, environment: env)
        let store = try Store(path: runtime.config.databasePath, durability: .normal)
        let day = try String(contentsOf: Paths.root.appendingPathComponent("config/examples/day.ndjson"), encoding: .utf8)
        let seeds = try day.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
        var fuzzer = EventFuzzer(seed: seed, seeds: seeds)
        var now = at("2026-11-23T12:00:00Z")
        _ = try store.append(seeds.compactMap { try? EventValidator.validate($0).get() }, now: now)

        var accepted: [CloudEvent] = []
        var unchecked: [CloudEvent] = []
        var refused = 0
        for round in 0..<rounds {
            let json = fuzzer.event(id: round)
            // Through the door as the API and `append` take it: bytes, parsed, validated.
            guard let bytes = try? json.encodedBytes(), let parsed = try? JSONValue.parse(bytes) else {
                refused += 1
                continue
            }
            if case .success(let event) = EventValidator.validate(parsed), EventValidator.reservation(of: event) == nil {
                accepted.append(event)
            } else {
                refused += 1
                if fuzzer.chance(25), let event = CloudEvent(stored: parsed) { unchecked.append(event) }
            }
        }
        #expect(accepted.count > rounds / 5, "too few events got through to exercise the pipeline")
        #expect(refused > rounds / 20, "too few events were refused to exercise the validator")
        for chunk in stride(from: 0, to: accepted.count, by: 50) {
            let events = Array(accepted[chunk..<min(chunk + 50, accepted.count)])
            // Half as HTTP ingest does it, sealed ahead of the writer; half as the writer alone.
            if fuzzer.chance(50) {
                _ = try await store.append(batches: [store.prepare(events)], now: now)
            } else {
                _ = try store.append(events, now: now)
            }
            if fuzzer.chance(30), !unchecked.isEmpty { _ = try store.append([unchecked.removeLast()], now: now) }
        }
        _ = try store.append(unchecked, now: now)

        // The pipeline reaches the head, with progress on every call; then the deadlines of
        // whatever the events promised fire, on a clock that jumps ahead.
        func drain() throws {
            var calls = 0
            while true {
                let before = try store.checkpoint()
                let batch = try store.processBatch(limit: 97, engine: runtime.engine, now: now, fanoutLimit: 200)
                calls += 1
                #expect(calls < 10_000, "the pipeline stalled at \(before)")
                if batch.processed == 0 && !batch.fanoutPending { return }
                #expect(batch.checkpoint > before || batch.fanoutPending || batch.processed > 0)
            }
        }
        try drain()
        for jump: TimeInterval in [86_400, 7 * 86_400, 60 * 86_400] {
            now = at("2026-11-23T12:00:00Z").addingTimeInterval(jump)
            while try store.fireDueTimers(now: now).timers > 0 {}
            try drain()
        }
        let status = try store.status(now: now)
        #expect(status.lag == 0)

        // Previewed against the models as they stand, every accepted event projects and each of
        // its messages renders (or says why not), with nothing stored.
        var preview = Preview(engine: runtime.engine, base: StoredModels(store: store))
        for (offset, event) in accepted.prefix(300).enumerated() {
            let projection = try preview.project(StoredEvent(position: 1_000_000 + Int64(offset), recordedAt: now, event: event), now: now)
            for intent in projection.intents {
                guard let channel = intent.channel else { continue }
                _ = try? runtime.catalog.render(template: intent.template, channel: channel, locale: intent.locale, context: intent.context.json)
            }
        }

        // Replayed in memory with the same configuration, the log decides the messages the
        // pipeline decided, word for word. Proactive delay alerts are left out: whether one is
        // redundant depends on what was delivered, and here nothing is sent (a dry run assumes
        // everything was).
        let checkpoint = try await store.checkpoint()
        if let positions = try store.positions(recordedFrom: nil, until: nil) {
            let (report, _) = try await DryRun.compare(store: store, live: runtime, candidate: runtime,
                                                 positions: positions.lowerBound...min(positions.upperBound, checkpoint), now: now)
            let proactive = Set(runtime.workflows.workflows.filter { Deadlines.proactiveDelayTypes.contains($0.on) }.map(\.id))
            let differing = report.rows.filter { !proactive.contains($0.workflow) && $0.added + $0.removed + $0.changed > 0 }
            #expect(differing.isEmpty, "seed \(seed): \(differing)")
            #expect(report.rows.count > 5)
        }

        // Rebuilt from this log, the read models and timers are what the pipeline made.
        let projected = try RebuildTests.tables(store)
        _ = try store.rebuild(engine: runtime.engine, now: now)
        RebuildTests.expectSame(projected, try RebuildTests.tables(store), "the fuzzed log (seed \(seed))")

        // Every message renders on its channel with the shipped templates.
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, template, channel, locale, (SELECT context FROM message_contexts WHERE message_id = messages.id) AS context FROM messages WHERE channel IS NOT NULL")
        }
        #expect(rows.count > 50)
        for row in rows {
            let context = try JSONValue.parse(row["context"] as Data)
            let channel = try #require(Channel(rawValue: row["channel"]))
            #expect(throws: Never.self, "message \(row["id"] as Int64)") {
                _ = try runtime.catalog.render(template: row["template"], channel: channel, locale: row["locale"], context: context)
            }
        }
    }
}
