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
    public var context: JSONValue
    /// Not to be sent before this (the end of the customer's quiet hours); nil for at once.
    public var notBefore: Date?
}
