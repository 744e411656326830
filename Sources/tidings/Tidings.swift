import ArgumentParser
import Foundation
import Logging
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

@main
struct Tidings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tidings",
        abstract: "Turns a shop's order and ticket events into timely customer messages.",
        subcommands: [Serve.self, Append.self, Status.self, Deliveries.self, Events.self, Endpoints.self, Clock.self, Rebuild.self, ReplayCommand.self, PreviewCommand.self, Forget.self, Suppressions.self, Export.self, Import.self, Check.self])
}

/// The `--config` option every command shares.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: $TIDINGS_CONFIG or config/tidings.yaml).")
    var config: String?

    var path: String { config ?? ProcessInfo.processInfo.environment["TIDINGS_CONFIG"] ?? "config/tidings.yaml" }

    func load() async throws -> TidingsConfig {
        do {
            return try await ConfigLoader.load(path: path)
        } catch {
            throw Failure(error, exitCode: 2)
        }
    }

    /// The daemon's clock, as the running daemon sees it: the simulated time in the database with
    /// `clock.source: database`, else the system's. Every domain time a command writes comes from it.
    static func clock(_ config: TidingsConfig, _ store: any TimerStore) async throws -> @Sendable () -> Date {
        let clock = DaemonClock(source: config.clockSource)
        try await clock.refresh(from: store)
        return { clock.now() }
    }

    /// What the commands that work on both backends use of the configured one.
    struct Parts {
        var reads: any ReadQueries
        var timers: any TimerStore
        var log: any EventLog
        /// Whether a daemon runs on this database now (SQLite: its lock file; PostgreSQL: an
        /// instance whose dispatcher said so in the last seconds).
        var daemonRunning: () async throws -> Bool
    }

    /// Runs `body` on the configured backend: the SQLite store, or a PostgreSQL pool for as
    /// long as `body` runs.
    static func withBackend<Result: Sendable>(_ config: TidingsConfig, _ body: (Parts) async throws -> Result) async throws -> Result {
        switch config.database {
        case .sqlite(let path):
            let store = try Store(path: path, durability: config.durability)
            return try await body(Parts(reads: store, timers: store, log: store, daemonRunning: { DaemonLock.isHeld(databasePath: path) }))
        case .postgres(let settings):
            return try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                try await backend.migrate()
                let log = PostgresLog(backend: backend)
                return try await body(Parts(reads: PostgresReads(backend: backend), timers: PostgresTimers(log: log), log: log,
                                            daemonRunning: { try await PostgresOutbox(backend: backend).liveDispatchers() > 0 }))
            }
        }
    }

    func loadRuntime() async throws -> Runtime {
        do {
            return try await Runtime.load(configPath: path)
        } catch {
            throw Failure(error, exitCode: 2)
        }
    }
}

/// Prints an error as a person should read it, then exits with the given code.
struct Failure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ error: any Error, exitCode: Int32 = 1) {
        message = "\(error)"
        self.exitCode = exitCode
    }

    init(message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }
}

extension AsyncParsableCommand {
    /// Runs a body, turning any error into a one-line message on stderr and an exit code.
    func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as Failure {
            FileHandle.standardError.write(Data(Journal.errorLine("tidings: \(failure.message)\n").utf8))
            throw ExitCode(failure.exitCode)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data(Journal.errorLine("tidings: \(error)\n").utf8))
            throw ExitCode(1)
        }
    }
}

func bootstrapLogging(level: Logger.Level) -> Logger {
    // Under systemd, each line carries its priority for the journal; on a terminal, the time.
    let journal = Journal.isStandardError
    LoggingSystem.bootstrap { label in
        var handler = LineLogHandler(label: label, style: journal ? .journal : .terminal)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "tidings")
}
