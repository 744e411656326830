import Foundation

/// A message a workflow decided to send: everything the outbox needs, including the rendering
/// context frozen at the moment of the event, so a later render says what was true then.
public struct NotificationIntent: Sendable, Hashable {
    /// Deterministic idempotency key: the same event and workflow always give the same key.
    public var key: String
    public var workflow: String
    public var category: Workflow.Category
    public var customerID: String
    /// The order or ticket the message is about.
    public var subjectID: String?
    public var eventPosition: Int64
    /// The channel to try first, or nil when no channel is usable (the message is recorded as
    /// skipped, with `skipReason`, so it stays visible).
    public var channel: Channel?
    public var recipient: String?
    /// The routes to fall back to, in order, if the first one dies.
    public var fallbacks: [Route]
    public var skipReason: String?
    public var template: String
    public var locale: String
    public var context: MessageContext
    /// Not to be sent before this (the end of the customer's quiet hours); nil for at once.
    public var notBefore: Date?
    /// The customer is not known yet (another producer's registration has not arrived): the
    /// message is parked until they are, or until `WorkflowEngine.customerWait` runs out.
    public var awaitingCustomer = false
    /// A proactive delay alert within the window of an earlier delay notice: it is skipped if
    /// a delay notice about the same order, caused by the event at this position or a later
    /// one, was delivered or is still on its way; otherwise it goes out. Whether one was is
    /// known to the outbox alone, so the store decides (`Workflow.delayNoticeTypes` say which).
    public var redundantIfToldSince: Int64?
}

/// A message parked in the outbox until its customer is known: what `WorkflowEngine.release`
/// needs to route it then.
public struct ParkedMessage: Sendable, Hashable {
    public var key: String
    public var workflow: String
    public var customerID: String
    public var subjectID: String?
    public var eventPosition: Int64
    public var eventType: String
    public var template: String
    public var context: JSONValue

    public init(key: String, workflow: String, customerID: String, subjectID: String?, eventPosition: Int64, eventType: String,
                template: String, context: JSONValue) {
        self.key = key
        self.workflow = workflow
        self.customerID = customerID
        self.subjectID = subjectID
        self.eventPosition = eventPosition
        self.eventType = eventType
        self.template = template
        self.context = context
    }
}
