import Foundation

extension Bench {
    /// 3. A backlog of 1,000,000 events (100,000 customers, orders, and tickets through their
    /// lifecycles) appended while the daemon was down; then `tidings serve` starts and projects
    /// it into read models, timers and outbox rows. Measured from the daemon's start to the
    /// checkpoint reaching the head; resident memory is the peak (VmHWM). Sending is switched
    /// off so that the figure is the pipeline's.
    func catchUp() async throws -> [Outcome] {
        let tidings = try tidings("3-catch-up")
        var file = try NDJSONFile(tidings.work.appendingPathComponent("backlog.ndjson"))
        EventFactory(run: "s3").lifecycle(count: count(100_000), spread: 5_000) { file.add($0) }
        try file.close()
        _ = try await tidings.append(file.url, name: "append-backlog")
        try? FileManager.default.removeItem(at: file.url)

        let start = ContinuousClock.now
        let (daemon, _) = try await tidings.serve(dispatch: false)
        let progress = Progress(pool: try tidings.reader())
        let (seconds, peak, outbox) = try await stopping(daemon) {
            try await progress.caughtUp(timeout: 1_200)
            let seconds = (ContinuousClock.now - start).seconds
            let peak = daemon.peakResidentMB() ?? 0
            return (seconds, peak, try progress.messages(state: "pending"))
        }
        guard outbox > 0 else { throw BenchError("the pipeline caught up but wrote no outbox rows") }
        let rate = Double(file.count) / seconds
        return [Outcome(scenario: "3 pipeline catch-up", figure: rate, unit: "events/s", target: ">= 100000 events/s, RSS <= 150 MB",
                        pass: rate >= 100_000 && peak <= 150,
                        details: ["events": Double(file.count), "seconds": seconds, "peak_rss_mb": peak, "outbox_rows": Double(outbox)])]
    }
}
