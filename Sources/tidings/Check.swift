import ArgumentParser
import Foundation
import Logging
import TidingsApp
import TidingsCore
import TidingsPostgres

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the configuration and render every template with sample data.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let problems = ConfigCheck.problems(in: runtime)
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
                throw Failure(message: "\(problems.count) problem\(problems.count == 1 ? "" : "s") in the configuration", exitCode: 2)
            }
            let templates = runtime.catalog.sources.count
            print("configuration ok: \(runtime.workflows.workflows.count) workflows, \(templates) templates")
            for (channel, config) in runtime.config.channels.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                var limits = "\(config.concurrency) in flight"
                if let limiter = config.rateLimit { limits += ", at most \(limiter.rate.formatted())/s (bursts of \(Int(limiter.burst)))" }
                guard case .off = config.route else {
                    print("  \(channel.rawValue): \(config.routeName), \(limits), \(RetryText.describe(config.retry))")
                    continue
                }
                print("  \(channel.rawValue): off")
            }
            for warning in ConfigCheck.warnings(in: runtime.config) { print("warning: \(warning)") }
            try await Self.checkDatabase(runtime.config.database)
        }
    }
}

extension Check {
    /// A PostgreSQL database is connected to, migrated, and described; an SQLite file is only
    /// named (the daemon makes it on start).
    /// The pool logs each failed connection at info; `check` says what failed itself.
    static var quietLogger: Logger {
        var logger = Logger(label: "tidings.postgres")
        logger.logLevel = .critical
        return logger
    }

    static func checkDatabase(_ database: DatabaseChoice) async throws {
        guard case .postgres(let settings) = database else {
            print("  database: \(database)")
            return
        }
        let standing = try await PostgresBackend.withRunning(settings, logger: Self.quietLogger) { try await $0.check() }
        let waiting = standing.unsequenced > 0 ? " (\(standing.unsequenced) awaiting their positions)" : ""
        print("  database: PostgreSQL \(standing.serverVersion) at \(settings), schema at \(standing.migrations.last.map { String($0.prefix { $0 != ":" }) } ?? "none"), " +
              "\(standing.events) events in the log\(waiting)")
    }
}

/// A retry policy in words, for `tidings check`.
enum RetryText {
    static func describe(_ policy: RetryPolicy) -> String {
        var text: String
        switch policy.backoff {
        case .schedule(let delays):
            text = "retries after " + delays.map(DurationText.format).joined(separator: " ")
        case .exponential(let initial, let maximum):
            text = "retries from \(DurationText.format(initial)) doubling to \(DurationText.format(maximum))"
        }
        if let maxAttempts = policy.maxAttempts { text += ", at most \(maxAttempts) attempts" }
        if let span = policy.span { text += ", giving up after \(DurationText.format(span))" }
        return text
    }
}
