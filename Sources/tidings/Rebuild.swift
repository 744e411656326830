import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the read models and deadline timers from the event log, while the daemon runs.",
        discussion: """
            Customers, orders, tickets and timers are made again from the log, up to where the pipeline stands, into \
            new tables, and swapped in with one transaction. A running daemon keeps accepting events and carries on \
            on the new tables. (On PostgreSQL the tables are rebuilt in place in one transaction, and the pipelines of \
            the running instances pause until it commits.) The outbox is not touched: nothing is sent again. Events the pipeline quarantined stay \
            out; events waiting for their order or ticket keep waiting.
            """)

    @OptionGroup var options: ConfigOption

    @Option(help: "Seconds to wait for a disruption's fan-out to finish before the tables are swapped.")
    var fanoutWait: Int = 120

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            var meter = ProgressMeter(terminal: isatty(STDERR_FILENO) == 1)
            let summary: RebuildSummary
            switch runtime.config.database {
            case .sqlite(let path):
                let store = try Store(path: path, durability: runtime.config.durability)
                let now = try await ConfigOption.clock(runtime.config, store)()
                summary = try store.rebuild(engine: runtime.engine, now: now, fanoutWait: .seconds(fanoutWait)) { meter.show($0) }
                meter.finish()
            case .postgres(let settings):
                // One transaction, under the pipeline's lock: every instance's pipeline pauses
                // until it commits; ingest goes on.
                summary = try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                    try await backend.migrate()
                    let log = PostgresLog(backend: backend)
                    let now = try await ConfigOption.clock(runtime.config, PostgresTimers(log: log))()
                    return try await PostgresPipeline(log: log).rebuild(engine: runtime.engine, now: now)
                }
            }
            print("""
                rebuilt from \(summary.events) events (up to position \(summary.checkpoint)) in \(meter.elapsed): \
                \(summary.customers) customers, \(summary.orders) orders, \(summary.tickets) tickets, \(summary.timers) timers running
                """)
            if summary.waiting > 0 {
                print("\(summary.waiting) events still wait for their order or ticket (tidings events lists them)")
            }
        }
    }
}

/// Progress on stderr: one line redrawn on a terminal, a line every five seconds elsewhere
/// (under systemd, the journal).
struct ProgressMeter {
    let terminal: Bool
    let start = ContinuousClock.now
    var lastShown = ContinuousClock.now - .seconds(60)
    var drawn = false

    init(terminal: Bool) {
        self.terminal = terminal
    }

    var elapsed: String { String(format: "%.1f s", (ContinuousClock.now - start).seconds) }

    mutating func show(_ progress: RebuildProgress) {
        let now = ContinuousClock.now
        guard now - lastShown >= (terminal ? .milliseconds(200) : .seconds(5)) else { return }
        lastShown = now
        let seconds = max((now - start).seconds, 0.001)
        var line = "\(progress.phase.rawValue): \(progress.events) events"
        if progress.phase == .replaying, progress.target > 0 {
            let done = Double(progress.position) / Double(progress.target)
            let eta = done > 0 ? seconds * (1 - done) / done : 0
            line += String(format: " (%.0f%%, %.0f events/s, about %.0f s to go)", done * 100, Double(progress.events) / seconds, eta)
        }
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
