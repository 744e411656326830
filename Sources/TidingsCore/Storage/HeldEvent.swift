import Foundation

/// An event the pipeline set aside instead of applying, so that it never stops the others:
/// quarantined (it could not be applied) or waiting (its order or ticket does not exist yet).
public struct HeldEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case quarantined, waiting
    }

    /// How the reason of an event quarantined because its wait ran out begins (a rebuild tells
    /// it from one that failed by this), and how it ends.
    public static let gaveUp = "gave up waiting: "
    public static let gaveUpEnd = " (pipeline.park_window ran out)"

    /// An event, or one order of a disruption's fan-out.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        public var position: Int64
        public var order: String?

        public init(position: Int64, order: String? = nil) {
            self.position = position
            self.order = order
        }

        /// As the store keys it: the order, or empty for the event itself.
        public var scope: String { order ?? "" }

        public var description: String { order.map { "\(position) (order \($0))" } ?? "\(position)" }
    }

    /// One event set aside in a batch, and why: for the log line and the counter.
    public struct Note: Sendable, Hashable {
        public var key: Key
        public var reason: String

        public init(key: Key, reason: String) {
            self.key = key
            self.reason = reason
        }
    }

    public var key: Key
    public var kind: Kind
    public var type: String?
    public var subject: String?
    /// The order or ticket it waits for (`order:o-1`); applied as soon as that exists.
    public var waitingFor: String?
    public var reason: String
    public var heldAt: Date
    /// When a waiting event gives up and is quarantined.
    public var expiresAt: Date?
    public var attempts: Int
    public var retryRequested: Bool

    public init(key: Key, kind: Kind, type: String?, subject: String?, waitingFor: String?, reason: String, heldAt: Date, expiresAt: Date?,
                attempts: Int, retryRequested: Bool) {
        self.key = key
        self.kind = kind
        self.type = type
        self.subject = subject
        self.waitingFor = waitingFor
        self.reason = reason
        self.heldAt = heldAt
        self.expiresAt = expiresAt
        self.attempts = attempts
        self.retryRequested = retryRequested
    }
}

/// What an operator's retry of a held event came to.
public struct HeldRetry: Sendable, Hashable {
    public var key: HeldEvent.Key
    /// Nil when it was applied (or went back to waiting for its order or ticket).
    public var failure: String?

    public init(key: HeldEvent.Key, failure: String?) {
        self.key = key
        self.failure = failure
    }
}

