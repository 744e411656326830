import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List messages, show one's history, and retry dead ones.", subcommands: [List.self, Show.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List messages, oldest first.")

        @OptionGroup var options: ConfigOption

        @Option(help: "Only messages in this state: \(MessageState.allCases.map(\.rawValue).joined(separator: ", ")).")
        var state: String?

        @Option(help: "Only messages to this customer id.")
        var customer: String?

        @Option(help: "Only messages with an id above this one (the next page, or what is new).")
        var after: Int64?

        @Option(help: "At most this many.")
        var limit = 100

        func run() async throws {
            try await reporting {
                var filter: MessageState?
                if let state {
                    guard let parsed = MessageState(rawValue: state) else {
                        throw Failure(message: "--state must be one of \(MessageState.allCases.map(\.rawValue).joined(separator: ", "))", exitCode: 64)
                    }
                    filter = parsed
                }
                let config = try await options.load()
                let messages = try await ConfigOption.withBackend(config) { parts in
                    try await parts.reads.messages(state: filter, customerID: customer, subjectID: nil, id: nil, after: after, limit: limit)
                }
                print(StatusReport.render(messages))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a message and every attempt it made, on every channel.")

        @OptionGroup var options: ConfigOption

        @Argument(help: "The message id (see `tidings deliveries list`).")
        var id: Int64

        func run() async throws {
            try await reporting {
                let config = try await options.load()
                let (message, attempts) = try await ConfigOption.withBackend(config) { parts in
                    (try await parts.reads.message(byID: id), try await parts.reads.attempts(messageID: id))
                }
                guard let message else { throw Failure(message: "no message \(id)", exitCode: 1) }
                print(StatusReport.render(message, attempts: attempts))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead message (or all of them) to be sent again.")

        @OptionGroup var options: ConfigOption

        @Argument(help: "The message id (see `tidings deliveries list`).")
        var id: Int64?

        @Flag(name: .customLong("all-dead"), help: "Retry every dead message.")
        var allDead = false

        func validate() throws {
            guard (id != nil) != allDead else { throw ValidationError("give a message id or --all-dead") }
        }

        func run() async throws {
            try await reporting {
                let config = try await options.load()
                let count = try await ConfigOption.withBackend(config) { parts in
                    try await parts.reads.retry(messageID: allDead ? nil : id, now: await ConfigOption.clock(config, parts.timers)(), by: .commandLine)
                }
                if count == 0, let id { throw Failure(message: "message \(id) is not dead: only dead messages can be retried") }
                print("queued \(count) message\(count == 1 ? "" : "s") for another attempt")
            }
        }
    }
}
