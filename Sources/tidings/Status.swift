import ArgumentParser
import Foundation
import TidingsApp
import TidingsStore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the log head, the pipeline's checkpoint and lag, and the outbox by state.")

    @OptionGroup var options: ConfigOption

    @Option(name: .customLong("wait-idle"), help: "Wait up to this many seconds for the pipeline to catch up and nothing to be due or in flight.")
    var waitIdle: Double?

    func run() async throws {
        try await reporting {
            let config = try await options.load()
            let store = try Store(path: config.databasePath, durability: config.durability)
            // "Due" means due by the daemon's clock, simulated or not, read anew each time.
            let now = { () async throws -> Date in try await ConfigOption.clock(config, store)() }
            var status = try store.status(now: await now())
            if let waitIdle {
                let deadline = Date().addingTimeInterval(waitIdle)
                while !status.isIdle && Date() < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try store.status(now: await now())
                }
                print(StatusReport.render(status))
                if !status.isIdle { throw Failure(message: "still busy after \(waitIdle) s (lag \(status.lag), \(status.busy) due or in flight)") }
            } else {
                print(StatusReport.render(status))
            }
        }
    }
}
