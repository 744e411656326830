import Foundation
import Synchronization

/// Lets the pipeline claim the messages it writes for the dispatcher of its own process, in
/// the transaction that writes them: a complaint's acknowledgement then goes out without
/// waiting for a claim of its own (a write, and an fsync, behind whatever holds the writer).
///
/// The dispatcher offers room per channel (what it would claim ahead next); a batch reserves
/// it, claims up to it under the dispatcher's owner and lease, and hands the claims over
/// once its transaction commits. A batch that rolls back gives the room back. Claims handed
/// over after the dispatcher closed it stay claimed until the next start releases them (as
/// for a crash), so the dispatcher waits for reservations in progress before its last write.
public final class ClaimHandoff: Sendable {
    /// What a batch claimed for the dispatcher, and the room it had.
    public struct Delivery: Sendable {
        public var messages: [OutboxMessage]
        /// The room the batch reserved, per channel: a channel whose claims filled it may have
        /// more due; one whose claims fell short has nothing more due now (or the batch made
        /// nothing ready on it, and did not look).
        public var reserved: [Channel: Int]

        public init(messages: [OutboxMessage], reserved: [Channel: Int]) {
            self.messages = messages
            self.reserved = reserved
        }

        /// Whether more messages of the channel may be due than the batch could claim.
        public func filled(_ channel: Channel) -> Bool {
            messages.count(where: { $0.channel == channel }) >= reserved[channel, default: 0]
        }
    }

    private struct State {
        var room: [Channel: Int] = [:]
        /// The dispatcher's last offer: room given back never exceeds it (a channel whose
        /// breaker paused since gets none back).
        var offer: [Channel: Int] = [:]
        /// Room that batches hold now: not offered again until they deliver or give it back.
        /// Empty exactly when no batch holds any (room is reserved only when there is some).
        var held: [Channel: Int] = [:]
        var deliveries: [Delivery] = []
        var closed = false

        /// A batch is done with its room: what it did not use is offered again (an offer made
        /// meanwhile left it out, as held).
        mutating func finish(_ reserved: [Channel: Int], used: [Channel: Int]) {
            for (channel, count) in reserved {
                let left = held[channel, default: 0] - count
                held[channel] = left > 0 ? left : nil
                let unused = count - used[channel, default: 0]
                if !closed && unused > 0 { room[channel] = min(room[channel, default: 0] + unused, offer[channel, default: 0]) }
            }
        }
    }

    /// The dispatcher run the claims are made for, and how long they last.
    public let owner: String
    public let lease: TimeInterval
    private let state = Mutex(State())
    private let delivered: @Sendable () -> Void

    /// `delivered` wakes the dispatcher when claims arrive.
    public init(owner: String, lease: TimeInterval, delivered: @escaping @Sendable () -> Void) {
        self.owner = owner
        self.lease = lease
        self.delivered = delivered
    }

    // MARK: the dispatcher's side

    /// How many more messages the dispatcher takes per channel now; replaces the last offer.
    public func offer(_ room: [Channel: Int]) {
        state.withLock { state in
            guard !state.closed else { return }
            state.room = room.compactMapValues { room in room > 0 ? room : nil }
            state.offer = state.room
            // Room held by batches in progress, and claims handed over but not taken yet.
            var taken = state.held
            for delivery in state.deliveries {
                for message in delivery.messages { taken[message.channel, default: 0] += 1 }
            }
            for (channel, count) in taken {
                let left = state.room[channel, default: 0] - count
                state.room[channel] = left > 0 ? left : nil
            }
        }
    }

    /// The claims handed over since the last call.
    public func take() -> [Delivery] {
        state.withLock { state in
            defer { state.deliveries.removeAll() }
            return state.deliveries
        }
    }

    /// No more room is offered (the dispatcher is stopping); returns whether batches still hold
    /// room they reserved, whose claims may yet arrive.
    public func close() -> Bool {
        state.withLock { state in
            state.closed = true
            state.room = [:]
            return !state.held.isEmpty
        }
    }

    public var hasOutstanding: Bool { state.withLock { !$0.held.isEmpty } }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// The room on offer now, per channel.
    public var offered: [Channel: Int] { state.withLock { $0.room } }

    // MARK: the pipeline's side

    /// Takes all the room offered; the batch claims within it, then delivers or gives it back.
    public func reserve() -> [Channel: Int] {
        state.withLock { state in
            guard !state.room.isEmpty else { return [:] }
            defer { state.room = [:] }
            state.held.merge(state.room, uniquingKeysWith: +)
            return state.room
        }
    }

    /// The batch committed, with `claimed` claimed within the `reserved` room: the claims are
    /// the dispatcher's, and the room left unused is offered again.
    public func deliver(_ claimed: [OutboxMessage], reserved: [Channel: Int]) {
        guard !reserved.isEmpty else { return }
        var used: [Channel: Int] = [:]
        for message in claimed { used[message.channel, default: 0] += 1 }
        state.withLock { state in
            state.finish(reserved, used: used)
            if !claimed.isEmpty { state.deliveries.append(Delivery(messages: claimed, reserved: reserved)) }
        }
        if !claimed.isEmpty { delivered() }
    }

    /// The batch rolled back: nothing was claimed, and the room is offered again.
    public func giveBack(_ reserved: [Channel: Int]) {
        guard !reserved.isEmpty else { return }
        state.withLock { state in state.finish(reserved, used: [:]) }
    }
}
