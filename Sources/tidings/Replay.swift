import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the log through other workflows and templates and show what they would have sent, writing nothing.",
        discussion: """
            --config names a directory with the candidate `workflows.yaml`, a `templates/` directory, or both; \
            whatever it lacks, and every other setting, comes from the running configuration ($TIDINGS_CONFIG, or \
            --live-config). The whole log up to the pipeline's checkpoint is replayed in memory with the candidate \
            (so customers and orders stand as they did); the messages of the events recorded in --since/--until are \
            compared, by key, with what the running configuration decided: per workflow and channel, added, removed \
            and changed, with examples and a unified diff of changed words. Nothing is written or sent.
            """)

    @Flag(help: "Required: replay never writes or sends, and says so.")
    var dryRun = false

    @Option(help: "The candidate: a directory with workflows.yaml and/or templates/.")
    var config: String

    @Option(help: "The running configuration (default: $TIDINGS_CONFIG or config/tidings.yaml).")
    var liveConfig: String?

    @Option(help: "Compare the messages of events recorded at or after this time (RFC 3339).")
    var since: String?

    @Option(help: "... and before this time (RFC 3339).")
    var until: String?

    @Option(help: "Examples shown per kind of change (added, removed, changed).")
    var examples: Int = 3

    @Option(help: "text, or json for scripts.")
    var format: PreviewCommand.OutputFormat = .text

    func run() async throws {
        try await reporting {
            guard dryRun else {
                throw Failure(message: "tidings replay runs only with --dry-run: it compares, it never writes or sends", exitCode: 64)
            }
            let range = (since: try Self.time(since, "--since"), until: try Self.time(until, "--until"))
            let livePath = liveConfig ?? ProcessInfo.processInfo.environment["TIDINGS_CONFIG"] ?? "config/tidings.yaml"
            let live: Runtime
            do { live = try await Runtime.load(configPath: livePath) } catch { throw Failure(error, exitCode: 2) }
            let candidate = try Self.candidate(config, live: live.config)
            func compare(_ source: some DryRunSource, timers: any TimerStore) async throws -> (DryRunReport, Int, ClosedRange<Int64>) {
                let checkpoint = try await source.checkpoint()
                guard let found = try await source.positions(recordedFrom: range.since, until: range.until), found.lowerBound <= checkpoint else {
                    throw Failure(message: "no events applied by the pipeline were recorded \(Self.describe(range))", exitCode: 1)
                }
                let positions = found.lowerBound...min(found.upperBound, checkpoint)
                let now = try await ConfigOption.clock(live.config, timers)()
                let (report, events) = try await DryRun.compare(store: source, live: live, candidate: candidate, positions: positions, now: now,
                                                                examplesPerChange: examples)
                return (report, events, positions)
            }
            let (report, events, positions): (DryRunReport, Int, ClosedRange<Int64>)
            switch live.config.database {
            case .sqlite(let path):
                let store = try Store(path: path, durability: live.config.durability)
                (report, events, positions) = try await compare(store, timers: store)
            case .postgres(let settings):
                (report, events, positions) = try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                    try await backend.migrate()
                    let log = PostgresLog(backend: backend)
                    return try await compare(PostgresPipeline(log: log), timers: PostgresTimers(log: log))
                }
            }
            let summary = DryRunSummary(report: report, events: events, positions: positions, range: Self.describe(range), candidate: config)
            print(format == .json ? summary.json : summary.text)
        }
    }

    static func time(_ text: String?, _ option: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw Failure(message: "\(option) \(text) is not an RFC 3339 time such as 2026-11-24T08:00:00Z", exitCode: 64)
        }
        return date
    }

    static func describe(_ range: (since: Date?, until: Date?)) -> String {
        switch (range.since, range.until) {
        case (nil, nil): return "at any time"
        case (let since?, nil): return "since \(Timestamp.format(since))"
        case (nil, let until?): return "before \(Timestamp.format(until))"
        case (let since?, let until?): return "from \(Timestamp.format(since)) to \(Timestamp.format(until))"
        }
    }

    /// The running configuration with the candidate's workflows and templates in place.
    static func candidate(_ directory: String, live: TidingsConfig) throws -> Runtime {
        var config = live
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        let workflows = root.appendingPathComponent("workflows.yaml").path
        let templates = root.appendingPathComponent("templates").path
        var isDirectory: ObjCBool = false
        let hasTemplates = FileManager.default.fileExists(atPath: templates, isDirectory: &isDirectory) && isDirectory.boolValue
        let hasWorkflows = FileManager.default.fileExists(atPath: workflows)
        guard hasWorkflows || hasTemplates else {
            throw Failure(message: "\(directory) holds neither workflows.yaml nor a templates directory: nothing to try", exitCode: 2)
        }
        if hasWorkflows { config.workflowsPath = workflows }
        if hasTemplates { config.templatesDirectory = templates }
        do {
            return try Runtime.load(config: config)
        } catch {
            throw Failure(message: "the candidate in \(directory) does not load: \(error)", exitCode: 2)
        }
    }
}
