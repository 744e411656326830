import Foundation

/// Decides which messages an event causes. Pure: it sees the event and the read models as
/// they are after the event was applied, and the time, and returns intents; the store writes them.
public struct WorkflowEngine: Sendable {
    public var workflows: WorkflowSet
    public var shop: ShopInfo
    public var promises: ServicePromises
    /// Who staff alerts are addressed to on the `staff` channel (a team or room name).
    public var staffRecipient: String

    public init(workflows: WorkflowSet, shop: ShopInfo, promises: ServicePromises = .standard, staffRecipient: String = "staff") {
        self.workflows = workflows
        self.shop = shop
        self.promises = promises
        self.staffRecipient = staffRecipient
    }

    /// `now` decides quiet hours; `scope` tells apart the messages one event sends about several
    /// subjects (a disruption, per order), so each gets its own key.
    public func intents(for stored: StoredEvent, customer: Customer?, order: Order?, ticket: Ticket?, now: Date,
                        scope: String? = nil) -> [NotificationIntent] {
        let type = stored.event.type
        let matching = workflows.triggered(by: type)
        guard !matching.isEmpty, Deadlines.isLive(type, dueAt: stored.event.time, order: order, ticket: ticket) else { return [] }
        // Staff hear about a ticket or order even when its customer never registered.
        guard let person = customer ?? (order?.customerID ?? ticket?.customerID).map(Customer.init(id:)) else { return [] }
        let context = TemplateContext.make(event: stored, customer: person, order: order, ticket: ticket, shop: shop, promises: promises)
        let eventID = scope.map { "\(stored.event.id)\u{0}\($0)" } ?? stored.event.id
        var intents: [NotificationIntent] = []
        for workflow in matching where Self.matches(workflow.when, context) {
            var intent = NotificationIntent(
                key: IdempotencyKey.make(workflow: workflow.id, source: stored.event.source, eventID: eventID), workflow: workflow.id,
                category: workflow.category, customerID: person.id, subjectID: scope ?? stored.event.subject, eventPosition: stored.position,
                channel: nil, recipient: nil, fallbacks: [], skipReason: nil, template: workflow.template,
                locale: person.locale ?? workflows.fallbackLocale, context: context)
            switch workflow.to {
            case .staff:
                intent.channel = .staff
                intent.recipient = staffRecipient
                intent.locale = workflows.fallbackLocale
            case .customer:
                guard let customer else { continue }
                route(&intent, workflow: workflow, customer: customer, order: order, type: type, now: now)
            }
            intents.append(intent)
        }
        return intents
    }

    /// Picks the customer's channel, or records why nothing is sent, and holds the message for
    /// the customer's quiet hours unless it is urgent on that channel.
    func route(_ intent: inout NotificationIntent, workflow: Workflow, customer: Customer, order: Order?, type: String, now: Date) {
        if workflow.category.canOptOut && customer.preferences.optOut.contains(workflow.category.rawValue) {
            intent.skipReason = "customer opted out of \(workflow.category.rawValue) messages"
            return
        }
        if Deadlines.proactiveDelayTypes.contains(type), order?.delayNoticeHeld == true {
            let told = order?.delayNoticeAt.map(Timestamp.dayAndTime) ?? "recently"
            intent.skipReason = "already told about a delay to this order at \(told), within the alert window"
            return
        }
        var selection = ChannelSelection.select(workflow.channels, for: customer)
        if selection.channels.isEmpty, workflow.category.isEssential, !(customer.email ?? "").isEmpty {
            // Acknowledgements and order news always reach the customer somewhere.
            selection.channels = [.email]
        }
        guard let first = selection.channels.first else {
            let tried = workflow.channels.map(\.name).joined(separator: ", ")
            intent.skipReason = "no usable channel among [\(tried)]: " + selection.passedOver.joined(separator: "; ")
            return
        }
        intent.channel = first
        intent.recipient = customer.address(on: first)
        intent.fallbacks = selection.channels.dropFirst().compactMap { channel in
            customer.address(on: channel).map { Route(channel: channel, recipient: $0) }
        }
        if !workflow.urgent.contains(first), let quiet = customer.preferences.quietHours {
            intent.notBefore = quiet.release(at: now, in: customer.timeZone(or: promises.calendar.timeZone))
        }
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
