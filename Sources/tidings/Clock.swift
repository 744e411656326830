import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore

struct Clock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the clock and the next deadline, or move a simulated clock forward.",
        discussion: """
            With `clock.source: database` (CLOCK_SOURCE=database), the daemon's time is kept in the database and \
            moves only when you set it: a demo or a rehearsal can live through days of deadlines in seconds. \
            With the system clock, `set` is refused.
            """,
        subcommands: [Show.self, Set.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the clock's source and time, and the next deadline timer.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            try await reporting {
                let config = try await options.load()
                let (now, next) = try await ConfigOption.withBackend(config) { parts in
                    (try await config.clockSource == .database ? parts.timers.simulatedTime() : ConfigOption.clock(config, parts.timers)(),
                     try await parts.timers.nextTimer())
                }
                print("source:  \(config.clockSource.rawValue)")
                print("now:     \(now.map(Timestamp.format) ?? "not set yet (the system time is used until `tidings clock set`)")")
                if let next {
                    print(StatusReport.printable("next:    \(Timestamp.format(next.dueAt))  \(next.type)  \(next.subject)"))
                } else {
                    print("next:    no deadline timers running")
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move the simulated clock forward to a time (RFC 3339).")

        @OptionGroup var options: ConfigOption

        @Argument(help: "The new time, such as 2026-11-24T08:00:00Z.")
        var time: String

        @Option(help: "Seconds to wait for a running daemon to take up the new time.")
        var wait: Double = 15

        func run() async throws {
            try await reporting {
                let config = try await options.load()
                guard config.clockSource == .database else {
                    throw Failure(message: "the clock is the system clock (clock.source: system); set clock.source: database (or CLOCK_SOURCE=database) to simulate time",
                                  exitCode: 64)
                }
                guard let date = Timestamp.parse(time) else {
                    throw Failure(message: "\(time) is not an RFC 3339 time such as 2026-11-24T08:00:00Z", exitCode: 64)
                }
                try await ConfigOption.withBackend(config) { parts in
                    try await parts.timers.setSimulatedTime(date)
                    guard try await parts.daemonRunning() else {
                        print("clock set to \(Timestamp.format(date)) (no daemon is running; it starts at this time)")
                        return
                    }
                    // Return only once the daemon runs at the new time and has fired its deadlines,
                    // so whatever is appended next is applied at it.
                    let deadline = Date().addingTimeInterval(wait)
                    while try await (parts.timers.appliedSimulatedTime() ?? .distantPast) < date {
                        guard Date() < deadline else {
                            throw Failure(message: """
                                the clock is set to \(Timestamp.format(date)), but the running daemon has not taken it up within \
                                \(Int(wait)) s; does it run with clock.source: database (CLOCK_SOURCE=database) on this database?
                                """)
                        }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    print("clock set to \(Timestamp.format(date))")
                }
            }
        }
    }
}
