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

    @Option(help: "A scratch directory for databases and server logs (emptied first).")
    var work = "var/bench"

    @Option(help: "Where to write the results as JSON.")
    var json = "var/bench/results.json"

    @Option(help: "Scenarios to run, e.g. 1,2,6 (default: all; 9 is PostgreSQL).")
    var only: String?

    @Option(help: "Scale every count by this factor (0.1 for a quick look; targets are for 1).")
    var scale = 1.0

    @Option(help: "The daemon's log level: warning by default; debug adds a line per message sent, to measure what that costs.")
    var logLevel = "warning"

    func run() async throws {
        let root = URL(fileURLWithPath: repository).standardizedFileURL
        let workURL = URL(fileURLWithPath: work, relativeTo: root).standardizedFileURL
        try? FileManager.default.removeItem(at: workURL)
        try FileManager.default.createDirectory(at: workURL, withIntermediateDirectories: true)
        let binary = URL(fileURLWithPath: tidings, relativeTo: root).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no tidings binary at \(binary): build it with `swift build -c release`")
        }
        let bench = Bench(binary: binary, repository: root, work: workURL, scale: scale, logLevel: logLevel)
        let chosen = Set((only ?? "1,2,3,4,5,6,7,8,9").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        var report = Report(started: ISO8601DateFormatter().string(from: Date()), machine: Self.machine(), scale: scale)
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
                report.outcomes += try await scenario()
            } catch {
                report.outcomes.append(.failed("\(number) \(name)", target: "-", error))
            }
            if let last = report.outcomes.last { print("    \(last.error ?? "\(Report.number(last.figure)) \(last.unit)")") }
        }
        print()
        print(report.table())
        let jsonURL = URL(fileURLWithPath: json, relativeTo: root).standardizedFileURL
        try FileManager.default.createDirectory(at: jsonURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try report.write(to: jsonURL)
        print("\nwritten to \(jsonURL.path)")
        if !report.passed { throw ExitCode(1) }
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
