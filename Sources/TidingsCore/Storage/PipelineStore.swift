import Foundation

/// What one pipeline batch did.
public struct PipelineBatch: Sendable, Hashable {
    public var processed = 0
    public var checkpoint: Int64 = 0
    /// The batch stopped early because someone waited for the writer (`Yielding`): more
    /// events may be waiting.
    public var yielded = false
    /// Another instance's pipeline holds the lock (PostgreSQL): this one applied nothing, and
    /// looks again less often, so that the one applying the log keeps it.
    public var ledElsewhere = false
    /// New messages ready to send, by channel, so the dispatcher can be woken for them.
    public var readyByChannel: [Channel: Int] = [:]
    /// Of those, the ones that go out first (`ClaimPriority.first`): what a batch claims for
    /// the dispatcher itself.
    public var readyFirstByChannel: [Channel: Int] = [:]
    /// Messages claimed for the dispatcher in the batch's own transaction (`ClaimHandoff`), by
    /// channel, and the room it had for them.
    public var handedOff: [Channel: Int] = [:]
    public var handoffRoom: [Channel: Int] = [:]
    public var skipped = 0
    /// Unsent order-status messages made stale by a later status of the same order, by channel.
    public var suppressedByChannel: [Channel: Int] = [:]
    /// Deadline timers started: the clock may have to wake sooner.
    public var timersScheduled = 0
    /// Orders told about a disruption in this batch, and whether more are waiting.
    public var disruptionAlerts = 0
    public var fanoutPending = false
    /// Messages parked until their customer is known, parked ones routed now that the customer
    /// is, and parked ones skipped because the wait ran out.
    public var parked = 0
    public var releasedMessages = 0
    public var parkedExpired = 0
    /// Events left waiting for their order or ticket, and waiting ones applied now that it exists.
    public var waiting = 0
    public var released = 0
    /// Events (or fan-out orders) set aside because they could not be applied, or because
    /// their order or ticket never came.
    public var quarantined: [HeldEvent.Note] = []
    /// Receipts that moved a message on, by channel, workflow and what they said.
    public var receipts: [ReceiptTally: Int] = [:]
    /// Receipts for a key the outbox does not hold (a message erased meanwhile): history only.
    public var receiptsUnmatched = 0
    /// Receipts that came for a message whose send is not recorded yet (still `sending`): kept
    /// in its history, but they move nothing; the pipeline service says which.
    public var receiptsBeforeRecord: [String] = []

    public struct ReceiptTally: Sendable, Hashable {
        public var channel: Channel
        public var workflow: String
        public var status: Receipt.Status

        public init(channel: Channel, workflow: String, status: Receipt.Status) {
            self.channel = channel
            self.workflow = workflow
            self.status = status
        }
    }

    /// The store as the batch's transaction left it, so the loop need not ask again before
    /// the next batch: the log's head, when the first wait ends (both only in the loop's own
    /// batches), and whether an operator asked for held events to be retried.
    public var head: Int64 = 0
    public var nextWaitEnd: Date?
    public var retriesRequested = false

    public var suppressed: Int { suppressedByChannel.values.reduce(0, +) }

    /// What became of one intent in the outbox.
    public enum Placed: Equatable, Sendable {
        case queued(Channel, suppressed: [Channel])
        case skipped
        case parked
    }

    /// Counts what became of an intent; a replayed one (nil) counts nothing. `first`: it goes
    /// out first (`ClaimPriority.first`), so a batch may claim it for the dispatcher.
    public mutating func count(_ placed: Placed?, first: Bool = false) {
        switch placed {
        case .queued(let channel, let suppressed):
            readyByChannel[channel, default: 0] += 1
            if first { readyFirstByChannel[channel, default: 0] += 1 }
            for channel in suppressed { suppressedByChannel[channel, default: 0] += 1 }
        case .skipped: skipped += 1
        case .parked: parked += 1
        case nil: break
        }
    }

    /// Whether the dispatcher must look for new messages itself: some channel has new ones that
    /// do not go out first (the batch claims only those that do), or the batch's claims filled
    /// its room (more may be due), or it had none.
    public var dispatcherMustClaim: Bool {
        readyByChannel.contains { channel, ready in
            ready > readyFirstByChannel[channel, default: 0] || handedOff[channel, default: 0] >= handoffRoom[channel, default: 0]
        }
    }

    public init() {}
}

/// When a long batch gives the writer up early. One writer serves the pipeline and HTTP ingest,
/// so a request that arrives during a batch waits for its commit: after every `stride` events
/// the batch asks `waiting` (do requests wait for the writer?) and, if so, commits what it has.
/// Large batches then cost ingest nothing, and the pipeline keeps them for throughput.
/// A disruption's fan-out also stops for `sending` (the dispatcher waits for the writer to claim
/// and record), once it has told `sendingAfter` orders: it places messages faster than one claim
/// a batch can take, so they would otherwise wait for the whole fan-out before going out; the
/// minimum keeps the commits it costs few.
public struct Yielding: Sendable {
    public var stride: Int
    public var waiting: @Sendable () -> Bool
    public var sending: @Sendable () -> Bool
    public var sendingAfter: Int

    public init(stride: Int, waiting: @escaping @Sendable () -> Bool, sending: @escaping @Sendable () -> Bool = { false },
                sendingAfter: Int = 200) {
        self.stride = max(1, stride)
        self.waiting = waiting
        self.sending = sending
        self.sendingAfter = sendingAfter
    }

    /// Never stops early: the whole batch, as asked.
    public static let never = Yielding(stride: .max, waiting: { false })

    /// The same, also stopping once `stop` says so (asked as often as `waiting` is: the
    /// daemon's pipeline asks every 25 to 100 events).
    public func stopping(when stop: @escaping @Sendable () -> Bool) -> Yielding {
        let waiting = self.waiting
        return Yielding(stride: stride, waiting: { stop() || waiting() }, sending: sending, sendingAfter: sendingAfter)
    }

    /// Counts the work done since `waiting` was last asked; the pipeline's event loop and the
    /// fan-out both ask through it.
    public struct Counter {
        let yielding: Yielding
        let fanOut: Bool
        var since = 0
        var done = 0

        /// `fanOut`: the fan-out's counter, which stops for the dispatcher as well.
        public init(_ yielding: Yielding, fanOut: Bool = false) {
            self.yielding = yielding
            self.fanOut = fanOut
        }

        public mutating func count(_ work: Int = 1) {
            since += work
            done += work
        }

        /// Whether to stop now: asked once `stride` units of work were done since the last time.
        public mutating func shouldStop() -> Bool {
            guard since >= yielding.stride else { return false }
            since = 0
            return yielding.waiting() || (fanOut && done >= yielding.sendingAfter && yielding.sending())
        }
    }
}

/// Where the pipeline applies the log: each batch of events a unit of work (read models,
/// outbox rows, timers, held events and the checkpoint committed together), plus the waits and
/// operator retries around it. Async, so that a network database can conform without blocking
/// a thread; `now` is read inside the unit of work.
public protocol PipelineStore: Sendable {
    /// The last position readers may see.
    func head() async throws -> Int64
    /// The position up to which the pipeline has applied the log.
    func checkpoint() async throws -> Int64
    /// `handoff`, when given, is the local dispatcher's: the batch claims its new messages for
    /// it, in its own transaction, as far as the room it offers.
    func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                      handoff: ClaimHandoff?) async throws -> PipelineBatch
    /// When the first wait (a parked message, an event waiting for its order) runs out.
    func nextWaitEnd() async throws -> Date?
    func retriesRequested() async throws -> Bool
    func retryRequested(engine: WorkflowEngine, now: @escaping @Sendable () -> Date) async throws -> [HeldRetry]
}

extension PipelineStore {
    /// A batch whose messages the dispatcher claims itself.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding)
        async throws -> PipelineBatch
    {
        try await processBatch(limit: limit, engine: engine, now: now, fanoutLimit: fanoutLimit, yielding: yielding, handoff: nil)
    }

    /// A whole batch, never stopped early.
    public func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int) async throws
        -> PipelineBatch
    {
        try await processBatch(limit: limit, engine: engine, now: now, fanoutLimit: fanoutLimit, yielding: .never, handoff: nil)
    }
}

/// An event (or fan-out order) the pipeline could not apply: the batch is rolled back and done
/// again with it set aside as quarantined, so that one bad event never stops the others.
public struct EventFailure: Error, Sendable {
    public var key: HeldEvent.Key
    public var reason: String

    public init(key: HeldEvent.Key, reason: String) {
        self.key = key
        self.reason = reason
    }
}
