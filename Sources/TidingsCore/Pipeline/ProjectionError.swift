/// Why the pipeline cannot apply an event that is in the log: it is quarantined with this
/// message, and `tidings rebuild` passes over it as the pipeline did.
public struct ProjectionError: DomainError {
    public enum Code: String, Sendable {
        /// An id the event names (its subject, a customer or order id) has a control character.
        /// The validator refuses those today; an older log may hold them, and SQLite would store
        /// `o-1\u{0}x` as `o-1`, so two orders would become one.
        case unstorableID = "projection.unstorable_id"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
