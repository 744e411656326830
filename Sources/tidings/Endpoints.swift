import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore

struct Endpoints: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each channel's endpoint, and enable one that was disabled after answering 410 Gone.",
        subcommands: [List.self, Enable.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each channel's endpoint and whether it is enabled.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            try await reporting {
                let config = try await options.load()
                let disabled = try await ConfigOption.withBackend(config) { parts in try await parts.reads.disabledEndpoints() }
                for (channel, channelConfig) in config.channels.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    let endpoint = channelConfig.endpoint
                    if let off = disabled.first(where: { $0.channel == channel && $0.target == endpoint }) {
                        print("\(channel.rawValue)\t\(endpoint)\tdisabled since \(Timestamp.format(off.since)): \(off.reason)")
                    } else {
                        print("\(channel.rawValue)\t\(endpoint)\tenabled")
                    }
                }
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a channel's endpoint again; then `tidings deliveries retry --all-dead` resends what died meanwhile.")

        @OptionGroup var options: ConfigOption

        @Argument(help: "The channel: \(Channel.allCases.map(\.rawValue).joined(separator: ", ")).")
        var channel: String

        func run() async throws {
            try await reporting {
                guard let channel = Channel(rawValue: channel) else {
                    throw Failure(message: "no channel \"\(self.channel)\"; channels are \(Channel.allCases.map(\.rawValue).joined(separator: ", "))",
                                  exitCode: 64)
                }
                let config = try await options.load()
                let count = try await ConfigOption.withBackend(config) { parts in
                    try await parts.reads.enableEndpoints(channel: channel, now: await ConfigOption.clock(config, parts.timers)(), by: .commandLine)
                }
                print(count == 0 ? "the \(channel.rawValue) endpoint was not disabled" : "enabled the \(channel.rawValue) endpoint")
            }
        }
    }
}
