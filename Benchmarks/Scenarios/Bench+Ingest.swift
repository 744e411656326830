import Foundation

extension Bench {
    /// 1. `tidings append` of 200,000 events into a new log, synchronous=FULL: process start to
    /// exit 0, which means every event is on disk.
    func append() async throws -> [Outcome] {
        let total = count(200_000)
        let tidings = try tidings("1-append")
        var file = try NDJSONFile(tidings.work.appendingPathComponent("events.ndjson"))
        EventFactory(run: "s1").lifecycle(count: total / 10, spread: 1_000) { file.add($0) }
        try file.close()
        let (seconds, peak) = try await tidings.append(file.url)
        let stored = try Progress(pool: tidings.reader()).head()
        guard stored == Int64(file.count) else { throw BenchError("the log holds \(stored) events, not \(file.count)") }
        let rate = Double(file.count) / seconds
        return [Outcome(scenario: "1 append", figure: rate, unit: "events/s", target: ">= 150000 events/s, RSS <= 100 MB",
                        pass: rate >= 150_000 && peak <= 100, details: ["events": Double(file.count), "seconds": seconds, "peak_rss_mb": peak])]
    }

    /// 8. Single-event `POST /v1/events` at a steady 500 requests/s while `tidings append`
    /// writes 300,000 events into the same log: the round trip of each request (first byte
    /// sent to the 2xx), recorded in an HdrHistogram. An append writes in short transactions,
    /// so a request waits for one of them at most, not for the whole file.
    func ingestDuringAppend() async throws -> [Outcome] {
        let tidings = try tidings("8-ingest-during-append")
        var file = try NDJSONFile(tidings.work.appendingPathComponent("append.ndjson"))
        EventFactory(run: "s8a").lifecycle(count: count(300_000) / 10, spread: 1_000) { file.add($0) }
        try file.close()
        // A second of requests per 150,000 events appended: the append outlasts them at any scale.
        var generated: [[UInt8]] = []
        EventFactory(run: "s8b").lifecycle(count: max(10, count(300_000) / 3_000), spread: 10) { generated.append(Array($0.utf8)) }
        let events = generated

        let (daemon, port) = try await tidings.serve(dispatch: false)
        let progress = Progress(pool: try tidings.reader())
        let (result, overlap, appendSeconds) = try await stopping(daemon) {
            let start = ContinuousClock.now
            let append = try tidings.startAppend(file.url)
            // From its first chunk: the requests then race the append for the writer.
            try await progress.wait(timeout: 60, "the append to start") { try progress.staged() > 0 }
            let load = HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents+json", total: events.count,
                                make: { LoadRequest(body: events[$0]) })
            let result = try await load.openLoop(rate: 500, connections: 16)
            let overlap = append.isRunning
            try await append.finish()
            return (result, overlap, (ContinuousClock.now - start).seconds)
        }
        if result.refused > 0 { throw BenchError("\(result.refused) requests refused; first: \(result.firstRefusal ?? "")") }
        guard overlap else { throw BenchError("the append finished before the requests did: make it larger (--scale)") }
        let p99 = result.milliseconds(atPercentile: 99)
        return [Outcome(scenario: "8 ingest during a \(file.count)-event append", figure: p99, unit: "ms p99", target: "p99 <= 100 ms",
                        pass: p99 <= 100, details: [
                            "requests": Double(result.accepted), "p50_ms": result.milliseconds(atPercentile: 50),
                            "max_ms": result.milliseconds(atPercentile: 100), "append_seconds": appendSeconds,
                        ])]
    }

    /// 2. `POST /v1/events` from 64 keep-alive clients, each sending its next request when the
    /// last is answered: one event per request, then batches of 100. Every answer must be a 2xx,
    /// which means the events are on disk; the log is counted afterwards. The pipeline runs
    /// beside the API as in production; sending is switched off (`dispatcher.enabled`), since
    /// scenarios 4 and 5 measure it.
    func ingest() async throws -> [Outcome] {
        let tidings = try tidings("2-ingest")
        let singles = count(150_000)
        var generated: [[UInt8]] = []
        generated.reserveCapacity(singles)
        EventFactory(run: "s2a").lifecycle(count: singles / 10, spread: 1_000) { generated.append(Array($0.utf8)) }
        let events = generated
        let bodies = Self.batches(EventFactory(run: "s2b"), requests: count(5_000), size: 100)

        let (daemon, port) = try await tidings.serve(dispatch: false)
        let progress = Progress(pool: try tidings.reader())
        let (single, afterSingles, batched, afterBatches) = try await stopping(daemon) {
            let single = try await HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents+json", total: events.count,
                                            make: { LoadRequest(body: events[$0]) }).closedLoop(connections: 64)
            let afterSingles = try progress.head()
            let batched = try await HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents-batch+json",
                                             total: bodies.count, make: { LoadRequest(body: bodies[$0]) }).closedLoop(connections: 64)
            return (single, afterSingles, batched, try progress.head())
        }

        var outcomes: [Outcome] = []
        for (name, result, perRequest, stored, target) in [
            ("2 ingest, 1 event/request", single, 1, afterSingles, 15_000.0),
            ("2 ingest, 100 events/request", batched, 100, afterBatches - afterSingles, 100_000.0),
        ] {
            if result.refused > 0 { throw BenchError("\(name): \(result.refused) requests refused; first: \(result.firstRefusal ?? "")") }
            let sent = result.accepted * perRequest
            guard stored == Int64(sent) else { throw BenchError("\(name): \(sent) events accepted but \(stored) in the log") }
            let rate = Double(sent) / result.seconds
            outcomes.append(Outcome(scenario: name, figure: rate, unit: "events/s", target: ">= \(Int(target)) events/s", pass: rate >= target,
                                    details: ["requests": Double(result.accepted), "seconds": result.seconds]))
        }
        return outcomes
    }

    /// `requests` JSON arrays of `size` events each, from the lifecycle stream.
    static func batches(_ factory: EventFactory, requests: Int, size: Int) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(requests)
        var current: [UInt8] = []
        var inCurrent = 0
        factory.lifecycle(count: requests * size / 10, spread: 1_000) { event in
            current.append(inCurrent == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
            current.append(contentsOf: event.utf8)
            inCurrent += 1
            if inCurrent == size {
                current.append(UInt8(ascii: "]"))
                bodies.append(current)
                current = []
                inCurrent = 0
            }
        }
        return bodies
    }
}
