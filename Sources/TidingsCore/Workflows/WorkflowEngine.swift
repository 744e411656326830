import Foundation

/// Decides which messages an event causes. Pure: it sees the event and the read models as
/// they are after the event was applied, and returns intents; the store writes them.
public struct WorkflowEngine: Sendable {
    public var workflows: WorkflowSet
    public var shop: ShopInfo
    public var promises: ServicePromises

    public init(workflows: WorkflowSet, shop: ShopInfo, promises: ServicePromises = .standard) {
        self.workflows = workflows
        self.shop = shop
        self.promises = promises
    }

    public func intents(for stored: StoredEvent, customer: Customer?, order: Order?, ticket: Ticket?) -> [NotificationIntent] {
        let matching = workflows.triggered(by: stored.event.type)
        guard !matching.isEmpty, let customer else { return [] }
        let context = TemplateContext.make(event: stored, customer: customer, order: order, ticket: ticket, shop: shop, promises: promises)
        var intents: [NotificationIntent] = []
        for workflow in matching where Self.matches(workflow.when, context) {
            let key = IdempotencyKey.make(workflow: workflow.id, source: stored.event.source, eventID: stored.event.id)
            var intent = NotificationIntent(
                key: key, workflow: workflow.id, category: workflow.category, customerID: customer.id,
                subjectID: stored.event.subject, eventPosition: stored.position, channel: nil, recipient: nil,
                fallbacks: [], skipReason: nil, template: workflow.template,
                locale: customer.locale ?? workflows.fallbackLocale, context: context)
            if workflow.category.canOptOut && customer.preferences.optOut.contains(workflow.category.rawValue) {
                intent.skipReason = "customer opted out of \(workflow.category.rawValue) messages"
            } else {
                let selection = ChannelSelection.select(workflow.channels, for: customer)
                if let first = selection.channels.first {
                    intent.channel = first
                    intent.recipient = customer.address(on: first)
                    intent.fallbacks = selection.channels.dropFirst().compactMap { channel in
                        customer.address(on: channel).map { Route(channel: channel, recipient: $0) }
                    }
                } else {
                    let tried = workflow.channels.map(\.name).joined(separator: ", ")
                    intent.skipReason = "no usable channel among [\(tried)]: " + selection.passedOver.joined(separator: "; ")
                }
            }
            intents.append(intent)
        }
        return intents
    }

    /// Every condition must hold; a condition holds when the value at its path equals one of
    /// the listed values.
    static func matches(_ conditions: [String: [String]], _ context: JSONValue) -> Bool {
        conditions.allSatisfy { path, allowed in
            guard let value = context.value(atPath: path)?.textValue else { return false }
            return allowed.contains(value)
        }
    }
}
