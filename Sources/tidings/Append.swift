import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsStore

struct Append: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate events from a file (JSON array or NDJSON; - for stdin) and append them to the log.",
        discussion: "If any event is invalid, none is appended. Events already in the log (same source and id) are skipped.")

    @OptionGroup var options: ConfigOption

    @Argument(help: "The file to read, or - for standard input.")
    var file: String

    func run() async throws {
        try await reporting {
            let config = try await options.load()
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    throw Failure(message: "cannot read \(file)")
                }
                data = contents
            }
            let (events, problems) = EventFileParser.parse(data)
            if !problems.isEmpty {
                for problem in problems { FileHandle.standardError.write(Data("\(StatusReport.printable(problem.description))\n".utf8)) }
                throw Failure(message: "appended nothing: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(file)")
            }
            let store = try Store(path: config.databasePath, durability: config.durability)
            let result = try store.append(events, now: ConfigOption.clock(config, store)())
            print("appended \(result.appended) event\(result.appended == 1 ? "" : "s"), \(result.alreadyStored) already stored")
        }
    }
}
