import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the event log as CloudEvents NDJSON, in the log's order, for `tidings import` or an archive.",
        discussion: """
            Each line is an event as it was stored, with the extension attribute tidingsrecordedat (when the log \
            recorded it). Personal data of forgotten customers stays out. Works on both backends, while the daemon \
            runs: the file holds the log up to where it stood when the export began.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .shortAndLong, help: "The file to write (default: standard output). Written beside it first, then renamed into place.")
    var output: String?

    func run() async throws {
        try await reporting {
            let config = try await options.load()
            let summary: LogTransfer.Summary
            if let output {
                let partial = output + ".partial"
                guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
                    throw Failure(message: "cannot write \(partial)")
                }
                do {
                    summary = try await LogTransfer.export(config.database, durability: config.durability) { try handle.write(contentsOf: $0) }
                    try handle.synchronize()
                    try handle.close()
                    guard rename(partial, output) == 0 else {
                        throw Failure(message: "cannot move \(partial) to \(output): \(String(cString: strerror(errno)))")
                    }
                } catch {
                    try? FileManager.default.removeItem(atPath: partial)
                    throw error
                }
            } else {
                summary = try await LogTransfer.export(config.database, durability: config.durability) { try FileHandle.standardOutput.write(contentsOf: $0) }
            }
            FileHandle.standardError.write(Data("exported \(summary.events) event\(summary.events == 1 ? "" : "s") from \(config.database)\n".utf8))
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a file `tidings export` wrote into a new database, of either backend.",
        discussion: """
            All or nothing, and only into an empty log. The history counts as applied: its messages went out from the \
            database it came from, so nothing is sent again; the read models and deadline timers are made from it with \
            the pipeline's own rules. Run it with the daemons stopped.
            """)

    @OptionGroup var options: ConfigOption

    @Argument(help: "The export to read, or - for standard input.")
    var file: String

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let summary = try await LogTransfer.importLog(LineReader(handle: try Append.input(file)), into: runtime, now: Date())
            var line = "imported \(summary.events) event\(summary.events == 1 ? "" : "s") into \(runtime.config.database)"
            if summary.alreadyStored > 0 { line += " (\(summary.alreadyStored) repeated in the file, stored once)" }
            if let rebuilt = summary.rebuilt {
                line += "; read models rebuilt: \(rebuilt.customers) customers, \(rebuilt.orders) orders, \(rebuilt.tickets) tickets, \(rebuilt.timers) timers running"
            }
            print(line)
        }
    }
}
