import Foundation

/// What a dry run (`tidings replay --dry-run`) reads of a backend: where the pipeline stands,
/// the log through a candidate's replay, and what the running configuration decided for the
/// same events. Both backends answer it; nothing is written.
public protocol DryRunSource: Sendable {
    func checkpoint() async throws -> Int64
    /// The log positions of the events recorded in a time range (either end open), or nil.
    func positions(recordedFrom since: Date?, until: Date?) async throws -> ClosedRange<Int64>?
    /// The events quarantined for failing, which a replay passes over as the pipeline did.
    func failedEvents() async throws -> Set<HeldEvent.Key>
    func forgottenCustomers() async throws -> Set<String>
    /// Messages of these events whose contents were dropped (a forget, or retention).
    func erasedKeys(positions: ClosedRange<Int64>) async throws -> Set<String>
    /// The messages given a channel for the events in `positions`, as the workflows decided them.
    func decidedMessages(positions: ClosedRange<Int64>) async throws -> [DecidedRow]
    /// The log up to `target` through `replay`; `each` gets every position and its intents.
    func replay(_ replay: inout Replay, through target: Int64, now: Date, each: (Int64, [NotificationIntent]) throws -> Void) async throws
}

/// A message row as a dry run reads it: its route and what renders it.
public struct DecidedRow: Sendable {
    public var key: String
    public var workflow: String
    public var channel: Channel
    public var recipient: String?
    public var template: String
    public var locale: String
    public var context: Data

    public init(key: String, workflow: String, channel: Channel, recipient: String?, template: String, locale: String, context: Data) {
        self.key = key
        self.workflow = workflow
        self.channel = channel
        self.recipient = recipient
        self.template = template
        self.locale = locale
        self.context = context
    }
}
