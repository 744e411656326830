import Foundation

/// How many messages a channel may start now: its concurrency limit, its rate limit and its
/// circuit breaker together. Pure; the dispatcher keeps one per channel.
public struct ChannelGate: Sendable, Hashable {
    public let concurrency: Int
    /// Sends handed to the transport beyond `concurrency`, which it holds until a connection
    /// frees (`Transport.holds`): none while a rate limit spaces the sends, since they would
    /// only wait there.
    public let queued: Int
    public private(set) var breaker: CircuitBreaker
    public private(set) var limiter: RateLimiter?
    public private(set) var inFlight = 0

    public init(concurrency: Int, queued: Int = 0, breaker: CircuitBreaker = CircuitBreaker(), limiter: RateLimiter? = nil) {
        self.concurrency = max(1, concurrency)
        self.queued = limiter == nil ? max(0, queued) : 0
        self.breaker = breaker
        self.limiter = limiter
    }

    /// Messages that may start now.
    public mutating func room(now: Date) -> Int {
        var room = max(0, concurrency + queued - inFlight)
        if let allowed = breaker.allowance(now: now) { room = min(room, allowed) }
        if let tokens = limiter?.available(now: now) { room = min(room, tokens) }
        return room
    }

    /// Sends are starting; returns the breaker's epoch, to hand back with each result.
    @discardableResult
    public mutating func started(_ count: Int, now: Date) -> Int {
        guard count > 0 else { return breaker.epoch }
        inFlight += count
        breaker.started(count)
        limiter?.take(count, now: now)
        return breaker.epoch
    }

    public mutating func finished(_ outcome: DeliveryOutcome, now: Date, startedIn epoch: Int? = nil) {
        inFlight = max(0, inFlight - 1)
        breaker.record(outcome.endpointSignal, now: now, startedIn: epoch)
    }

    /// A send came back unsent from the transport that held it: its slot is free again, and it
    /// says nothing about the endpoint (a probe given back leaves room for another).
    public mutating func givenBack(now: Date, startedIn epoch: Int? = nil) {
        inFlight = max(0, inFlight - 1)
        breaker.record(.neutral, now: now, startedIn: epoch)
    }

    /// Takes on what the instances sharing the outbox agree on: this instance's share of the
    /// rate limit, and a pause another instance's breaker started. Returns whether the breaker
    /// changed.
    @discardableResult
    public mutating func adopt(_ shared: SharedFlow, for channel: Channel, now: Date) -> Bool {
        limiter?.share(among: shared.instances, now: now)
        guard let pause = shared.pauses[channel] else { return false }
        return breaker.adopt(pause, now: now)
    }

    /// When room may open up without a send finishing: the rate limit's next token or the end
    /// of the breaker's pause. The dispatcher sleeps no longer than this.
    public func nextOpening(now: Date) -> Date? {
        guard inFlight < concurrency + queued else { return nil }
        return [breaker.reopensAt, limiter?.nextToken(now: now)].compactMap { $0 }.min()
    }
}
