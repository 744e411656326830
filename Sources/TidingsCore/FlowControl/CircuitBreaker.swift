import Foundation

/// Pauses an endpoint that keeps failing, so its messages wait instead of each one spending an
/// attempt on a server that is down. Pure: every call takes the clock.
///
///     closed ──`threshold` failures in a row──▶ open (until cool-down ends)
///     open ──cool-down over──▶ half-open: one probe ──sent──▶ closed
///                                                  └─failed──▶ open, cool-down doubled (capped)
public struct CircuitBreaker: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case closed(failures: Int)
        case open(until: Date, trips: Int)
        case halfOpen(trips: Int, probing: Bool)
    }

    /// What an attempt says about the endpoint (not about the one message).
    public enum Signal: Sendable {
        /// It answered and took the message.
        case healthy
        /// It was unreachable, timed out or answered "busy" / 5xx.
        case failing
        /// It answered, but refused this message for its own reasons.
        case neutral
    }

    public var threshold: Int
    public var coolDown: TimeInterval
    public var maximumCoolDown: TimeInterval
    public private(set) var state: State = .closed(failures: 0)
    /// Counts the pauses. A send reports the epoch it started in, so results of sends that
    /// started before a pause cannot pass for the probe's.
    public private(set) var epoch = 0

    public init(threshold: Int = 5, coolDown: TimeInterval = 30, maximumCoolDown: TimeInterval = 600) {
        self.threshold = threshold
        self.coolDown = coolDown
        self.maximumCoolDown = maximumCoolDown
    }

    /// How many attempts may start now: nil for no limit, 0 while paused, 1 for the probe.
    public mutating func allowance(now: Date) -> Int? {
        switch state {
        case .closed: return nil
        case .open(let until, let trips):
            guard until <= now else { return 0 }
            state = .halfOpen(trips: trips, probing: false)
            return 1
        case .halfOpen(_, let probing): return probing ? 0 : 1
        }
    }

    /// Attempts have started; in half-open the first one is the probe.
    public mutating func started(_ count: Int) {
        if case .halfOpen(let trips, false) = state, count > 0 { state = .halfOpen(trips: trips, probing: true) }
    }

    public mutating func record(_ signal: Signal, now: Date, startedIn sendEpoch: Int? = nil) {
        if let sendEpoch, sendEpoch != epoch { return }  // a late result from before the pause changes nothing
        switch (signal, state) {
        case (.healthy, _):
            state = .closed(failures: 0)
        case (.failing, .closed(let failures)):
            if failures + 1 >= threshold {
                state = .open(until: now.addingTimeInterval(coolDown), trips: 1)
                epoch += 1
            } else {
                state = .closed(failures: failures + 1)
            }
        case (.failing, .halfOpen(let trips, _)):
            let pause = min(maximumCoolDown, coolDown * pow(2, Double(min(30, trips))))
            state = .open(until: now.addingTimeInterval(pause), trips: trips + 1)
            epoch += 1
        case (.failing, .open), (.neutral, .closed), (.neutral, .open):
            break
        case (.neutral, .halfOpen(let trips, _)):
            state = .halfOpen(trips: trips, probing: false)  // the probe proved nothing: probe again
        }
    }

    /// How many pauses in a row, so far; 0 while closed.
    public var trips: Int {
        switch state {
        case .closed: return 0
        case .open(_, let trips), .halfOpen(let trips, _): return trips
        }
    }

    /// Takes on a pause that another instance's breaker started for the same endpoint, unless
    /// this one is already paused at least as long. Sends started before count for nothing (a
    /// new epoch). Returns whether anything changed.
    @discardableResult
    public mutating func adopt(_ pause: ChannelPause, now: Date) -> Bool {
        guard pause.until > now else { return false }
        if case .open(let until, _) = state, until >= pause.until { return false }
        state = .open(until: pause.until, trips: max(trips, pause.trips))
        epoch += 1
        return true
    }

    /// When a paused endpoint may be probed next.
    public var reopensAt: Date? {
        if case .open(let until, _) = state { return until }
        return nil
    }

    public var isPaused: Bool {
        if case .closed = state { return false }
        return true
    }
}

extension DeliveryOutcome {
    /// What this outcome says about the endpoint's health.
    public var endpointSignal: CircuitBreaker.Signal {
        switch self {
        case .sent: return .healthy
        case .transient: return .failing
        case .permanent, .gone: return .neutral
        }
    }
}
