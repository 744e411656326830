import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Events the pipeline set aside: quarantined ones, and ones waiting for their order or ticket.",
        discussion: """
            An event the pipeline cannot apply is quarantined with the reason, and the pipeline goes on without it. An \
            event about an order or ticket that does not exist yet waits for it (pipeline.park_window), then is \
            quarantined too; it is still applied if the order or ticket comes later.
            """,
        subcommands: [Quarantined.self, Waiting.self, Retry.self], defaultSubcommand: Quarantined.self)

    static func list(_ kind: HeldEvent.Kind, _ options: ConfigOption) async throws {
        try await Events().reporting {
            let config = try await options.load()
            print(StatusReport.render(try await ConfigOption.withBackend(config) { parts in try await parts.reads.heldEvents(kind: kind, limit: 100_000) }))
        }
    }

    struct Quarantined: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined events, with why.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            try await Events.list(.quarantined, options)
        }
    }

    struct Waiting: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events waiting for their order or ticket.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            try await Events.list(.waiting, options)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a held event again (after a fix), or every quarantined one.",
            discussion: """
                A running daemon applies it (this waits for the outcome); with no daemon running, this command does. The \
                event is applied as the read models stand now, out of log order.
                """)

        @OptionGroup var options: ConfigOption

        @Argument(help: "The event's log position (see `tidings events quarantined`).")
        var position: Int64?

        @Flag(help: "Retry every quarantined event.")
        var all = false

        @Option(help: "Seconds to wait for a running daemon to apply it.")
        var wait: Double = 30

        func validate() throws {
            guard (position != nil) != all else { throw ValidationError("give an event position or --all") }
        }

        func run() async throws {
            try await reporting {
                let runtime = try await options.loadRuntime()
                let config = runtime.config
                let chosen = { (held: HeldEvent) in all ? held.kind == .quarantined : held.key.position == position }
                let nothing = Failure(message: all ? "no event is quarantined" : "no held event at position \(position ?? 0); see `tidings events quarantined`")
                switch config.database {
                case .sqlite(let path):
                    let store = try Store(path: path, durability: config.durability)
                    let before = try store.heldEvents().filter(chosen)
                    guard try store.requestRetry(position: all ? nil : position) > 0, !before.isEmpty else { throw nothing }
                    if DaemonLock.isHeld(databasePath: path) {
                        let deadline = Date().addingTimeInterval(wait)
                        while try await store.retriesRequested() {
                            guard Date() < deadline else {
                                throw Failure(message: "the running daemon has not applied the retry within \(Int(wait)) s; it will when it can")
                            }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    } else {
                        // No daemon: apply it here, holding the daemon's lock meanwhile.
                        let lock = try DaemonLock(databasePath: path)
                        let now = try await ConfigOption.clock(config, store)
                        _ = try withExtendedLifetime(lock) { try store.retryRequested(engine: runtime.engine, now: now()) }
                    }
                    try report(before, after: try store.heldEvents())
                case .postgres(let settings):
                    // Applied here, under the pipeline's lock; a running instance that sees the
                    // request first applies it instead, and this leaves it alone.
                    try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                        try await backend.migrate()
                        let log = PostgresLog(backend: backend)
                        let reads = PostgresReads(backend: backend)
                        let pipeline = PostgresPipeline(log: log)
                        let before = try await reads.heldEvents(kind: nil, limit: 100_000).filter(chosen)
                        guard try await pipeline.requestRetry(position: all ? nil : position) > 0, !before.isEmpty else { throw nothing }
                        let now = try await ConfigOption.clock(config, PostgresTimers(log: log))
                        _ = try await pipeline.retryRequested(engine: runtime.engine, now: now)
                        try report(before, after: try await reads.heldEvents(kind: nil, limit: 100_000))
                    }
                }
            }
        }

        /// What became of each event asked for: applied, or still held and why. Exits 1 when
        /// one is quarantined still.
        func report(_ before: [HeldEvent], after held: [HeldEvent]) throws {
            let after = Dictionary(held.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            var failed = false
            for event in before {
                if let still = after[event.key] {
                    failed = failed || still.kind == .quarantined
                    print(StatusReport.printable("\(event.key): still \(still.kind.rawValue): \(still.reason)"))
                } else {
                    print("\(event.key): applied")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
