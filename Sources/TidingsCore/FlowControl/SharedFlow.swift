import Foundation

/// What one instance's dispatcher tells the others that share its outbox, so that a channel's
/// rate limit and circuit breaker hold for the channel as a whole (what the provider sees):
/// the pauses it started and the channels its probe found healthy again.
public struct FlowReport: Sendable, Hashable {
    /// Channels whose breaker this instance paused, until when and after how many trips.
    public var pauses: [Channel: ChannelPause]
    /// Channels whose endpoint answered again after a pause.
    public var resumed: Set<Channel>
    /// The instance is shutting down: it no longer takes a share of the rate limits.
    public var leaving: Bool

    public init(pauses: [Channel: ChannelPause] = [:], resumed: Set<Channel> = [], leaving: Bool = false) {
        self.pauses = pauses
        self.resumed = resumed
        self.leaving = leaving
    }

    public var isEmpty: Bool { pauses.isEmpty && resumed.isEmpty && !leaving }

    /// Notes what a breaker's change says: a new pause, or the end of one.
    public mutating func note(_ channel: Channel, _ breaker: CircuitBreaker) {
        if let until = breaker.reopensAt {
            pauses[channel] = ChannelPause(until: until, trips: breaker.trips)
            resumed.remove(channel)
        } else if !breaker.isPaused {
            pauses[channel] = nil
            resumed.insert(channel)
        }
    }

    /// Takes back an older report that could not be sent, under what was noted since.
    public mutating func keep(_ older: FlowReport) {
        for (channel, pause) in older.pauses where pauses[channel] == nil && !resumed.contains(channel) { pauses[channel] = pause }
        for channel in older.resumed where pauses[channel] == nil { resumed.insert(channel) }
        leaving = leaving || older.leaving
    }
}

/// A channel paused by some instance's breaker.
public struct ChannelPause: Sendable, Hashable {
    public var until: Date
    public var trips: Int

    public init(until: Date, trips: Int) {
        self.until = until
        self.trips = trips
    }
}

/// What the instances sharing an outbox agree on: how many dispatchers are alive (each takes
/// that share of a rate limit) and which channels are paused, until when.
public struct SharedFlow: Sendable, Hashable {
    public var instances: Int
    public var pauses: [Channel: ChannelPause]

    public init(instances: Int, pauses: [Channel: ChannelPause] = [:]) {
        self.instances = max(1, instances)
        self.pauses = pauses
    }
}
