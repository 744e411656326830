import ArgumentParser
import Foundation

/// `tidings-bench`: every scenario of the benchmark issue against the release build of the
/// daemon and real servers on loopback, each measured beside its reference tool in the same run.
@main
struct Suite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tidings-bench",
        abstract: "Measure Tidings (release build) against nginx, smtp-sink and reference tools on loopback.")

    @Option(help: "The tidings binary to measure.")
    var tidings = ".build/release/tidings"

    @Option(help: "The repository root: its config/ is the configuration the daemon runs on.")
    var repository = "."

    @Option(help: "A scratch directory for databases and server logs (emptied before each run).")
    var work = "var/bench"

    @Option(help: "Where to write the results as JSON.")
    var json = "var/bench/results.json"

    @Option(help: "Scenarios to run, e.g. 1,2,6 (default: all; 9 is PostgreSQL).")
    var only: String?

    @Option(help: "Scale every count by this factor (0.1 for a quick look; targets are for 1).")
    var scale = 1.0

    @Option(help: "The daemon's log level: warning by default; debug adds a line per message sent, to measure what that costs.")
    var logLevel = "warning"

    @Option(help: "Another tidings binary to compare with: each runs the scenarios once a round, in turns, and the table gives both sides' runs and medians (no targets judged).")
    var against: String?

    @Option(help: "With --against, how many rounds (each binary runs once a round; default 4, an even number gives each the lead as often).")
    var rounds: Int?

    func validate() throws {
        if rounds != nil && against == nil { throw ValidationError("--rounds goes with --against") }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
    }

    func run() async throws {
        let root = URL(fileURLWithPath: repository).standardizedFileURL
        let workURL = URL(fileURLWithPath: work, relativeTo: root).standardizedFileURL
        let binary = try Self.executable(tidings, root: root, hint: "build it with `swift build -c release`")
        let other = try against.map { try Self.executable($0, root: root, hint: "give the path of another build's `tidings`") }
        let chosen = Set((only ?? "1,2,3,4,5,6,7,8,9").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        let jsonURL = URL(fileURLWithPath: json, relativeTo: root).standardizedFileURL
        let started = ISO8601DateFormatter().string(from: Date())
        func bench(_ path: String) -> Bench { Bench(binary: path, repository: root, work: workURL, scale: scale, logLevel: logLevel) }
        if let other {
            var comparison = Comparison(started: started, machine: Self.machine(), scale: scale, binary: binary, against: other)
            let rounds = rounds ?? 4
            for round in 0..<rounds {
                for side in Comparison.order(round: round) {
                    let path = side == .binary ? binary : other
                    print("round \(round + 1) of \(rounds), \(path)")
                    try Self.empty(workURL)
                    comparison.add(await scenarios(bench(path), chosen: chosen), for: side)
                }
            }
            print()
            print(comparison.table())
            try Self.write(jsonURL) { try comparison.write(to: $0) }
            if !comparison.errors.isEmpty { throw ExitCode(1) }
            return
        }
        try Self.empty(workURL)
        var report = Report(started: started, machine: Self.machine(), scale: scale)
        report.outcomes = await scenarios(bench(binary), chosen: chosen)
        print()
        print(report.table())
        try Self.write(jsonURL) { try report.write(to: $0) }
        if !report.passed { throw ExitCode(1) }
    }

    /// The binary at `path` (from the repository root), or why it cannot be run.
    static func executable(_ path: String, root: URL, hint: String) throws -> String {
        let binary = URL(fileURLWithPath: path, relativeTo: root).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError("no tidings binary at \(binary): \(hint)") }
        return binary
    }

    /// Empties the scratch directory: before every run, so that nothing of one run (a cluster's
    /// port file, a database) is found by the next.
    static func empty(_ work: URL) throws {
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    static func write(_ url: URL, _ body: (URL) throws -> Void) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try body(url)
        print("\nwritten to \(url.path)")
    }

    /// Runs the chosen scenarios with one binary; a scenario that fails is a row saying why.
    func scenarios(_ bench: Bench, chosen: Set<Int>) async -> [Outcome] {
        var outcomes: [Outcome] = []
        let scenarios: [(Int, String, () async throws -> [Outcome])] = [
            (1, "append", bench.append),
            (2, "HTTP ingest", bench.ingest),
            (3, "pipeline catch-up", bench.catchUp),
            (4, "webhook fan-out", bench.webhooks),
            (5, "email", bench.email),
            (6, "latency", bench.latency),
            (7, "disruption", bench.disruption),
            (8, "ingest during an append", bench.ingestDuringAppend),
            (9, "PostgreSQL, one and three instances", bench.postgres),
        ]
        for (number, name, scenario) in scenarios where chosen.contains(number) {
            print("[\(number)] \(name)…")
            do {
                outcomes += try await scenario()
            } catch {
                outcomes.append(.failed("\(number) \(name)", target: "-", error))
            }
            if let last = outcomes.last { print("    \(last.error ?? "\(Report.number(last.figure)) \(last.unit)")") }
        }
        return outcomes
    }

    static func machine() -> [String: String] {
        var machine: [String: String] = ["cores": "\(ProcessInfo.processInfo.activeProcessorCount)",
                                         "memory_gib": String(format: "%.1f", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)]
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
            machine["cpu"] = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let os = try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8) {
            machine["debian"] = os.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return machine
    }
}

/// What every scenario needs: the binary, the repository, a scratch directory and the scale.
struct Bench: Sendable {
    let binary: String
    let repository: URL
    let work: URL
    let scale: Double
    let logLevel: String

    func count(_ base: Int) -> Int { max(100, Int(Double(base) * scale)) }

    func tidings(_ scenario: String) throws -> Tidings {
        try Tidings(binary: binary, repository: repository, work: work, scenario: scenario, logLevel: logLevel)
    }
}
