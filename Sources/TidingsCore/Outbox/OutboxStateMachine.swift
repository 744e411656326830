import Foundation

/// Where one message stands: what the state machine needs to decide its next step.
public struct DeliveryProgress: Sendable, Hashable {
    public var state: MessageState
    public var route: Route
    /// The next routes to try, in order, when this one is dead.
    public var fallbacks: [Route]
    /// Attempts on the current route.
    public var attempts: Int
    public var dueAt: Date
    public var leaseUntil: Date?
    public var lastError: String?
    /// When the current route was first tried: the retry policy's give-up clock starts here.
    public var routeStartedAt: Date?

    public init(state: MessageState, route: Route, fallbacks: [Route], attempts: Int, dueAt: Date, leaseUntil: Date? = nil,
                lastError: String? = nil, routeStartedAt: Date? = nil) {
        self.state = state
        self.route = route
        self.fallbacks = fallbacks
        self.attempts = attempts
        self.dueAt = dueAt
        self.leaseUntil = leaseUntil
        self.lastError = lastError
        self.routeStartedAt = routeStartedAt
    }
}

/// The outbox's rules, as pure functions of a message's progress and the clock:
///
///     pending ──claim──▶ sending ──sent──▶ sent
///     retrying ─claim─▶    │  ├─transient, attempts left──▶ retrying (due after backoff)
///     sending (lease out) ─┘  ├─transient, none left / permanent──▶ pending on the next route
///                             │                                      or dead when there is none
///     pending, retrying ──a later order status──▶ suppressed
///     dead ──operator retry──▶ pending (attempts start again)
///
/// The store applies these transitions; its claim query is `isClaimable` in SQL.
public enum OutboxStateMachine {
    /// Unsent and due, or sent by a claimer whose lease ran out (a dead daemon: a live one
    /// never takes back its own claims, which the store's claim also checks).
    public static func isClaimable(_ progress: DeliveryProgress, now: Date) -> Bool {
        if MessageState.unsent.contains(progress.state) { return progress.dueAt <= now }
        if progress.state == .sending { return (progress.leaseUntil ?? .distantPast) < now }
        return false
    }

    public static func claim(_ progress: DeliveryProgress, now: Date, lease: TimeInterval) -> DeliveryProgress? {
        guard isClaimable(progress, now: now) else { return nil }
        var next = progress
        next.state = .sending
        next.attempts += 1
        next.leaseUntil = now.addingTimeInterval(lease)
        next.routeStartedAt = progress.routeStartedAt ?? now
        return next
    }

    /// The step after an attempt. `jitter` (0...1) spreads retries; the caller draws it.
    public static func settle(_ progress: DeliveryProgress, outcome: DeliveryOutcome, now: Date, policy: RetryPolicy,
                              jitter: Double) -> DeliveryProgress {
        var next = progress
        next.leaseUntil = nil
        switch outcome {
        case .sent:
            next.state = .sent
            next.lastError = nil
            return next
        case .transient(let reason, let retryAfter):
            if let due = policy.nextAttempt(afterAttempts: progress.attempts, startedAt: progress.routeStartedAt, now: now, jitter: jitter,
                                            retryAfter: retryAfter) {
                next.state = .retrying
                next.dueAt = due
                next.lastError = reason
                return next
            }
            return failOver(next, reason: "gave up after \(progress.attempts) attempts: \(reason)", now: now)
        case .permanent(let reason), .gone(let reason):
            return failOver(next, reason: reason, now: now)
        }
    }

    /// Dead on this route: on to the next one at once, or dead for good.
    static func failOver(_ progress: DeliveryProgress, reason: String, now: Date) -> DeliveryProgress {
        var next = progress
        let failed = "\(progress.route.channel.rawValue): \(reason)"
        guard let route = progress.fallbacks.first else {
            next.state = .dead
            next.lastError = failed
            return next
        }
        next.state = .pending
        next.route = route
        next.fallbacks = Array(progress.fallbacks.dropFirst())
        next.attempts = 0
        next.dueAt = now
        next.routeStartedAt = nil
        next.lastError = "\(failed); falling back to \(route.channel.rawValue)"
        return next
    }

    /// A later status of the same order makes an unsent order-status message stale.
    public static func suppress(_ progress: DeliveryProgress, reason: String) -> DeliveryProgress? {
        guard MessageState.unsent.contains(progress.state) else { return nil }
        var next = progress
        next.state = .suppressed
        next.lastError = reason
        return next
    }

    /// An operator asks for another go at a dead message.
    public static func retry(_ progress: DeliveryProgress, now: Date) -> DeliveryProgress? {
        guard MessageState.retryable.contains(progress.state) else { return nil }
        var next = progress
        next.state = .pending
        next.attempts = 0
        next.dueAt = now
        next.routeStartedAt = nil
        return next
    }
}
