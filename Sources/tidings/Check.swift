import ArgumentParser
import Foundation
import TidingsApp

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
                print("  \(channel.rawValue): \(config.routeName), \(config.concurrency) in flight")
            }
        }
    }
}
