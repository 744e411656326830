import Foundation
import TidingsCore
import Yams

/// Reads `workflows.yaml` (a list of rules, which swift-configuration's YAML provider cannot
/// hold, hence Yams) and checks every rule against the event catalogue and channel names.
public enum WorkflowLoader {
    struct File: Decodable {
        var fallback_locale: String?
        var workflows: [Rule]
    }

    struct Rule: Decodable {
        var id: String
        var on: String
        var when: [String: OneOrMany]?
        var to: String?
        var category: String
        var channels: [String]
        var template: String
        var urgent: Urgency?
    }

    /// `urgent: true`, `false`, or the channels on which the message is urgent (`[email]`).
    struct Urgency: Decodable {
        var all: Bool
        var channels: [String]

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                all = flag
                channels = []
            } else {
                all = false
                channels = try OneOrMany(from: decoder).values
            }
        }
    }

    /// `kind: complaint` or `kind: [query, return]`.
    struct OneOrMany: Decodable {
        var values: [String]

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { values = [one] } else { values = try container.decode([String].self) }
        }
    }

    public static func load(path: String) throws -> WorkflowSet {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(.unreadable, "cannot read the workflows file \(path): \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "workflows.yaml") throws -> WorkflowSet {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw ConfigError(.workflows, "\(path) is not a valid workflows file: \(error)")
        }
        var seen = Set<String>()
        var workflows: [Workflow] = []
        for (index, rule) in file.workflows.enumerated() {
            let place = "\(path): workflow \(index + 1) (\(rule.id))"
            guard seen.insert(rule.id).inserted else { throw ConfigError(.workflows, "\(place): the id is used twice") }
            guard EventCatalogue.schema(for: rule.on) != nil else {
                throw ConfigError(.workflows, "\(place): unknown event type \"\(rule.on)\" in `on`")
            }
            guard let category = Workflow.Category(rawValue: rule.category) else {
                let allowed = Workflow.Category.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(.workflows, "\(place): category must be one of \(allowed), got \"\(rule.category)\"")
            }
            guard let audience = Workflow.Audience(rawValue: rule.to ?? "customer") else {
                throw ConfigError(.workflows, "\(place): `to` must be customer or staff, got \"\(rule.to ?? "")\"")
            }
            var channels: [Workflow.ChannelChoice] = []
            for name in rule.channels {
                guard let choice = Workflow.ChannelChoice(name: name) else {
                    throw ConfigError(.workflows, "\(place): unknown channel \"\(name)\"; use email, sms, messenger, preferred, or staff for `to: staff`")
                }
                channels.append(choice)
            }
            guard !channels.isEmpty else { throw ConfigError(.workflows, "\(place): channels must name at least one channel") }
            let staffOnly = channels == [.fixed(.staff)]
            if audience == .staff, !staffOnly {
                throw ConfigError(.workflows, "\(place): a workflow `to: staff` goes out on the staff channel: write `channels: [staff]`")
            }
            if audience == .customer, channels.contains(.fixed(.staff)) {
                throw ConfigError(.workflows, "\(place): the staff channel reaches the shop's team, not customers: use `to: staff`")
            }
            var urgent = Set<Channel>()
            if let rule = rule.urgent {
                urgent = rule.all ? Set(Channel.customerChannels) : []
                for name in rule.channels {
                    guard let channel = Channel(customerChoice: name) else {
                        throw ConfigError(.workflows, "\(place): urgent must be true, false or a list of email, sms, messenger; got \"\(name)\"")
                    }
                    urgent.insert(channel)
                }
            }
            workflows.append(Workflow(id: rule.id, on: rule.on, when: (rule.when ?? [:]).mapValues(\.values), to: audience,
                                      category: category, channels: channels, template: rule.template, urgent: urgent))
        }
        return WorkflowSet(fallbackLocale: file.fallback_locale ?? "en", workflows: workflows)
    }
}
