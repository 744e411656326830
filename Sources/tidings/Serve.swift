import ArgumentParser
import TidingsApp

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon: pipeline, dispatcher and systemd notifications.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let logger = bootstrapLogging(level: runtime.config.logLevel)
            try await Daemon.run(runtime: runtime, logger: logger)
        }
    }
}
