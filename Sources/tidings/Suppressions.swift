import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsStore

struct Suppressions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the addresses closed by a hard bounce or a spam complaint, and open one again.",
        discussion: """
            A hard bounce (the address does not exist) or a complaint (the customer reported a message as spam) suppresses \
            the customer's address on that channel: their later messages go on their next consented channel, or are skipped \
            saying why. A new address on the channel is not suppressed.
            """,
        subcommands: [List.self, Remove.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppressed addresses: channel, address, customer, why and since when.")

        @OptionGroup var options: ConfigOption

        @Option(help: "Only this channel: email, sms or messenger.")
        var channel: String?

        func run() async throws {
            try await reporting {
                let channel = try self.channel.map(Suppressions.channel)
                let config = try await options.load()
                let list = try await ConfigOption.withBackend(config) { parts in try await parts.reads.suppressions(channel: channel, customerID: nil) }
                if list.isEmpty { print("no address is suppressed") }
                for entry in list {
                    let s = entry.suppression
                    print("\(s.channel.rawValue)\t\(s.address)\tcustomer \(entry.customerID)\t\(s.reason.rawValue) \(Timestamp.format(s.since))"
                          + (s.detail.map { "\t\($0)" } ?? ""))
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift the suppression of an address (it was fixed, or the complaint was a mistake); recorded in the log.")

        @OptionGroup var options: ConfigOption

        @Argument(help: "The channel: email, sms or messenger.")
        var channel: String

        @Argument(help: "The address as `tidings suppressions list` shows it.")
        var address: String

        func run() async throws {
            try await reporting {
                let channel = try Suppressions.channel(self.channel)
                let config = try await options.load()
                let events = try await ConfigOption.withBackend(config) { parts in
                    let now = try await ConfigOption.clock(config, parts.timers)()
                    let events = SuppressionLift.events(for: try await parts.reads.suppressions(channel: channel, customerID: nil), address: address, at: now)
                    guard !events.isEmpty else { throw Failure(message: "\(address) is not suppressed on \(channel.rawValue)", exitCode: 1) }
                    _ = try await parts.log.append(batches: [events], now: now)
                    return events
                }
                print("lifted the suppression of \(address) on \(channel.rawValue) for \(events.count) customer\(events.count == 1 ? "" : "s")")
            }
        }
    }

    static func channel(_ name: String) throws -> Channel {
        guard let channel = Channel(customerChoice: name) else {
            throw Failure(message: "no channel \"\(name)\"; suppressions are on email, sms or messenger", exitCode: 64)
        }
        return channel
    }
}
