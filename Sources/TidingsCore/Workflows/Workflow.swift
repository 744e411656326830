/// One rule of `config/workflows.yaml`: which event sends which message, to whom, when, and on
/// which channels in which order.
public struct Workflow: Sendable, Hashable, Codable {
    public var id: String
    /// The event type that triggers it.
    public var on: String
    /// Dotted context paths and the values (any of) they must have.
    public var when: [String: [String]]
    public var to: String
    public var category: Category
    public var channels: [ChannelChoice]
    public var template: String

    public init(id: String, on: String, when: [String: [String]] = [:], to: String = "customer", category: Category,
                channels: [ChannelChoice], template: String) {
        self.id = id
        self.on = on
        self.when = when
        self.to = to
        self.category = category
        self.channels = channels
        self.template = template
    }

    /// Categories decide what a customer may opt out of: acknowledgements and order status
    /// always go out on some channel; follow-ups are optional.
    public enum Category: String, Sendable, Hashable, Codable, CaseIterable {
        case acknowledgement, orderStatus = "order_status", followUp = "follow_up"

        public var canOptOut: Bool { self == .followUp }
    }

    /// An entry of a workflow's channel list.
    public enum ChannelChoice: Sendable, Hashable, Codable {
        case preferred
        case fixed(Channel)

        public init?(name: String) {
            if name == "preferred" { self = .preferred } else if let channel = Channel(rawValue: name) { self = .fixed(channel) } else {
                return nil
            }
        }

        public var name: String {
            switch self {
            case .preferred: return "preferred"
            case .fixed(let channel): return channel.rawValue
            }
        }
    }
}

/// The whole workflow configuration.
public struct WorkflowSet: Sendable, Hashable {
    public var fallbackLocale: String
    public var workflows: [Workflow]

    public init(fallbackLocale: String = "en", workflows: [Workflow]) {
        self.fallbackLocale = fallbackLocale
        self.workflows = workflows
    }

    public func triggered(by type: String) -> [Workflow] {
        workflows.filter { $0.on == type }
    }
}
