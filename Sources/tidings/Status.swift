import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the log head, the pipeline's checkpoint and lag, and the outbox by state.")

    @OptionGroup var options: ConfigOption

    @Option(name: .customLong("wait-idle"), help: "Wait up to this many seconds for the pipeline to catch up and nothing to be due or in flight.")
    var waitIdle: Double?

    func run() async throws {
        try await reporting {
            let config = try await options.load()
            switch config.database {
            case .sqlite(let path):
                let store = try Store(path: path, durability: config.durability)
                try await report(config, status: store, timers: store)
            case .postgres(let settings):
                try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                    try await backend.migrate()
                    let log = PostgresLog(backend: backend)
                    try await log.sequence()
                    try await report(config, status: PostgresStatus(backend: backend), timers: PostgresTimers(log: log))
                }
            }
        }
    }

    func report(_ config: TidingsConfig, status source: any StatusSource, timers: any TimerStore) async throws {
        // "Due" means due by the daemon's clock, simulated or not, read anew each time.
        let now = { () async throws -> Date in try await ConfigOption.clock(config, timers)() }
        var status = try await source.status(now: await now())
        if let waitIdle {
            let deadline = Date().addingTimeInterval(waitIdle)
            while !status.isIdle && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
                status = try await source.status(now: await now())
            }
            print(StatusReport.render(status))
            if !status.isIdle { throw Failure(message: "still busy after \(waitIdle) s (lag \(status.lag), \(status.busy) due or in flight)") }
        } else {
            print(StatusReport.render(status))
        }
    }
}
