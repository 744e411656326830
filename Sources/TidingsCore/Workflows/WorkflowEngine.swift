import Foundation

/// Decides which messages an event causes. Pure: it sees the event and the read models as
/// they are after the event was applied, and the time, and returns intents; the store writes them.
public struct WorkflowEngine: Sendable {
    public var workflows: WorkflowSet
    public var shop: ShopInfo
    public var promises: ServicePromises
    /// Who staff alerts are addressed to on the `staff` channel (a team or room name).
    public var staffRecipient: String
    /// How long a message waits for a customer who is not known yet (their registration may
    /// come from another producer, after the order) before it is skipped with the reason.
    public var customerWait: TimeInterval
    /// Channels the shop does not use: never chosen, so a message goes on its next channel.
    public var channelsOff: Set<Channel>
    /// The channels' retry schedules: a soft bounce is tried again by them.
    public var retry: [Channel: RetryPolicy]

    public init(workflows: WorkflowSet, shop: ShopInfo, promises: ServicePromises = .standard, staffRecipient: String = "staff",
                customerWait: TimeInterval = 3600, channelsOff: Set<Channel> = [], retry: [Channel: RetryPolicy] = [:]) {
        self.workflows = workflows
        self.shop = shop
        self.promises = promises
        self.staffRecipient = staffRecipient
        self.customerWait = customerWait
        self.channelsOff = channelsOff
        self.retry = retry
    }

    /// The retry schedule of a channel, the default one when none was configured.
    public func retryPolicy(_ channel: Channel) -> RetryPolicy {
        retry[channel] ?? (channel == .email ? .email : .webhook)
    }

    /// `now` decides quiet hours; `scope` tells apart the messages one event sends about several
    /// subjects (a disruption, per order), so each gets its own key. A customer message whose
    /// customer is not known yet comes back `awaitingCustomer`, to be parked, never dropped.
    /// Every intent of one call carries the same context, so the store encodes it once.
    /// `group` is every order of one customer a disruption affects, when there are several: one
    /// message names them all.
    public func intents(for stored: StoredEvent, customer: Customer?, order: Order?, ticket: Ticket?, now: Date,
                        scope: String? = nil, group: [Order] = []) -> [NotificationIntent] {
        let type = stored.event.type
        let matching = workflows.triggered(by: type)
        guard !matching.isEmpty, Deadlines.isLive(type, dueAt: stored.event.time, order: order, ticket: ticket) else { return [] }
        // The pipeline applies order and ticket events only once their order or ticket exists,
        // so someone is always named; staff hear about it even when the customer is unknown.
        guard let person = customer ?? (order?.customerID ?? ticket?.customerID).map(Customer.init(id:)) else { return [] }
        let context = TemplateContext.make(event: stored, customer: person, order: order, ticket: ticket, shop: shop, promises: promises,
                                           group: group)
        let eventID = scope.map { "\(stored.event.id)\u{0}\($0)" } ?? stored.event.id
        var intents: [NotificationIntent] = []
        var conditions = Conditions(.made(context))
        // Conditions on the customer's details wait, with the message, until the customer is known.
        for workflow in matching where conditions.hold(workflow.when, skipping: customer == nil ? "customer." : nil) {
            var intent = NotificationIntent(
                key: IdempotencyKey.make(workflow: workflow.id, source: stored.event.source, eventID: eventID), workflow: workflow.id,
                category: workflow.category, customerID: person.id, subjectID: scope ?? stored.event.subject, eventPosition: stored.position,
                channel: nil, recipient: nil, fallbacks: [], skipReason: nil, template: workflow.template,
                locale: person.locale ?? workflows.fallbackLocale, context: .made(context))
            switch workflow.to {
            case .staff:
                intent.locale = workflows.fallbackLocale
                if channelsOff.contains(.staff) {
                    intent.skipReason = "the staff channel is off (staff.transport: off)"
                } else {
                    intent.channel = .staff
                    intent.recipient = staffRecipient
                }
            case .customer:
                if let customer {
                    // A message about several orders is not held back for what one of them was told.
                    route(&intent, workflow: workflow, customer: customer, order: group.count > 1 ? nil : order, type: type, now: now)
                } else {
                    intent.awaitingCustomer = true
                }
            }
            intents.append(intent)
        }
        return intents
    }

    /// Routes a parked message now that its customer is known. Their details go into the
    /// context (the ticket's promised times in their time zone); the rest stays as it was when
    /// the event happened. Then channels, consent and quiet hours apply as they would have.
    public func release(_ parked: ParkedMessage, category: Workflow.Category, customer: Customer, order: Order?, ticket: Ticket?,
                        now: Date) -> NotificationIntent {
        var context = parked.context
        context["customer"] = TemplateContext.customerValue(customer)
        if let ticket, context["ticket"] != nil {
            context["ticket"] = TemplateContext.ticketValue(ticket, promises: promises, zone: customer.timeZone(or: promises.calendar.timeZone))
        }
        var intent = NotificationIntent(
            key: parked.key, workflow: parked.workflow, category: category, customerID: customer.id, subjectID: parked.subjectID,
            eventPosition: parked.eventPosition, channel: nil, recipient: nil, fallbacks: [], skipReason: nil, template: parked.template,
            locale: customer.locale ?? workflows.fallbackLocale, context: .document(context))
        guard let workflow = workflows.workflow(id: parked.workflow), workflow.to == .customer else {
            intent.skipReason = "the workflow \(parked.workflow) is no longer configured for customers"
            return intent
        }
        var conditions = Conditions(intent.context)
        guard conditions.hold(workflow.when) else {
            intent.skipReason = "the workflow's conditions (when) do not hold for this customer"
            return intent
        }
        route(&intent, workflow: workflow, customer: customer, order: order, type: parked.eventType, now: now)
        return intent
    }

    /// Picks the customer's channel, or records why nothing is sent, and holds the message for
    /// the customer's quiet hours unless it is urgent on that channel.
    func route(_ intent: inout NotificationIntent, workflow: Workflow, customer: Customer, order: Order?, type: String, now: Date) {
        if workflow.category.canOptOut && customer.preferences.optOut.contains(workflow.category.rawValue) {
            intent.skipReason = "customer opted out of \(workflow.category.rawValue) messages"
            return
        }
        if Deadlines.proactiveDelayTypes.contains(type), let order, order.delayNoticeHeld == true {
            intent.redundantIfToldSince = order.delayNoticePosition ?? 0
        }
        var selection = ChannelSelection.select(workflow.channels, for: customer, off: channelsOff)
        if selection.channels.isEmpty, workflow.category.isEssential, !(customer.email ?? "").isEmpty, !channelsOff.contains(.email),
           customer.suppression(on: .email) == nil {
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
        intent.fallbacks = Array(selection.routes(for: customer).dropFirst())
        if !workflow.urgent.contains(first), let quiet = customer.preferences.quietHours {
            intent.notBefore = quiet.release(at: now, in: customer.timeZone(or: promises.calendar.timeZone))
        }
    }
}
