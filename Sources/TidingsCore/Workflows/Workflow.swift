/// One rule of `config/workflows.yaml`: which event sends which message, to whom, when, and on
/// which channels in which order.
public struct Workflow: Sendable, Hashable, Codable {
    public var id: String
    /// The event type that triggers it.
    public var on: String
    /// Dotted context paths and the values (any of) they must have.
    public var when: [String: [String]]
    public var to: Audience
    public var category: Category
    public var channels: [ChannelChoice]
    public var template: String
    /// Channels on which the message goes out even in the customer's quiet hours.
    public var urgent: Set<Channel>

    public init(id: String, on: String, when: [String: [String]] = [:], to: Audience = .customer, category: Category,
                channels: [ChannelChoice], template: String, urgent: Set<Channel> = []) {
        self.id = id
        self.on = on
        self.when = when
        self.to = to
        self.category = category
        self.channels = channels
        self.template = template
        self.urgent = urgent
    }

    /// Who a message is for: the customer the event is about, or the shop's own team (on the
    /// `staff` channel, whatever the customer's preferences).
    public enum Audience: String, Sendable, Hashable, Codable, CaseIterable {
        case customer, staff
    }

    /// Categories decide what a customer may opt out of and what can go stale:
    /// - `acknowledgement`: a complaint or query was received; always sent.
    /// - `transactional`: receipts, stock problems, cancellations, returns, refunds; always sent.
    /// - `order_status`: where the parcel is (shipped, out for delivery, delivered, delayed);
    ///   always sent, unless a later status of the same order makes an unsent one stale.
    /// - `follow_up`: optional; customers can opt out.
    /// - `alert`: to the shop's own team; never suppressed.
    public enum Category: String, Sendable, Hashable, Codable, CaseIterable {
        case acknowledgement, transactional, orderStatus = "order_status", followUp = "follow_up", alert

        public var canOptOut: Bool { self == .followUp }

        /// Messages the customer must get on some channel: when none of the workflow's channels
        /// is usable, email is the last resort.
        public var isEssential: Bool { self == .acknowledgement || self == .transactional || self == .orderStatus }

        /// Order-status messages go stale when a later status of the same order arrives;
        /// acknowledgements and follow-ups never do.
        public var canBeSuperseded: Bool { self == .orderStatus }
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

    public func workflow(id: String) -> Workflow? {
        workflows.first { $0.id == id }
    }

    /// The customer workflows whose messages tell a customer that an order is late: what a
    /// proactive delay alert checks before it is skipped as redundant.
    public var delayNoticeWorkflows: [String] {
        workflows.filter { $0.to == .customer && Deadlines.delayNoticeTypes.contains($0.on) }.map(\.id)
    }
}
