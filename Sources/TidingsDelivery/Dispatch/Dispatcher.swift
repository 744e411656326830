import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore

/// Claims due messages from the outbox ahead of their sends, renders them and hands them to
/// their channel's transport, as far as each channel's gate allows (concurrency, rate limit,
/// circuit breaker); results are recorded behind, in group commits. On graceful shutdown it
/// stops sending, lets sends in flight finish, records them and gives back unsent claims.
public final class Dispatcher: Service {
    public struct ChannelSetup: Sendable {
        public var transport: any Transport
        /// The URL (or spool) the transport sends to: what a 410 disables.
        public var endpoint: String
        public var retry: RetryPolicy
        /// The channel's limits, with their state at start.
        public var gate: ChannelGate

        public init(transport: any Transport, endpoint: String, retry: RetryPolicy, gate: ChannelGate) {
            self.transport = transport
            self.endpoint = endpoint
            self.retry = retry
            self.gate = gate
        }
    }

    /// The outbox, and all the dispatcher knows of the database.
    let queue: any OutboxQueue
    let catalog: TemplateCatalog
    let channels: [Channel: ChannelSetup]
    /// Each channel's endpoint, as the store's disabled-endpoint check wants them.
    let endpoints: [Channel: String]
    let lease: TimeInterval
    /// The queue's `windowPerSlot`: claims ahead, and sends in flight or unrecorded, per unit of
    /// a channel's concurrency.
    let windowPerSlot: Int
    let pollInterval: Duration
    let logger: Logger
    let clock: @Sendable () -> Date
    let metrics: DeliveryMetrics
    /// Names this dispatcher's claims: it never takes back its own, even when its clock jumps
    /// past their lease (a simulated clock set ahead, the wall clock stepped); leases are for
    /// claims whose dispatcher died.
    let owner: String
    /// What the running loop waits on: finished sends, finished writes, claims handed over,
    /// and `doorbell`.
    let wakeup = Doorbell()
    /// Where the pipeline hands over the messages it claims for this dispatcher as it writes
    /// them (given to the pipeline only while `run` is running).
    public let handoff: ClaimHandoff
    /// Ring to make the dispatcher look for new messages now (the pipeline queued some).
    public let doorbell: Doorbell
    /// What the running loop's last write brought back, until the loop takes it.
    let written = Mutex<Written?>(nil)
    /// Each channel's gate, and the breaker epoch each send started in; changed by the
    /// dispatching loop (or `drain`) only, never by sends.
    let gates: Mutex<GateBook>
    let finished = Mutex<[DeliveryRecord]>([])
    /// Outcomes the transports gave for the running loop's sends, not settled yet.
    let answered = Mutex<[Answer]>([])
    /// Sends a transport held for a connection and gave back unsent, still claimed.
    let givenBack = Mutex<[OutboxMessage]>([])
    /// Sends the running loop handed to transports (`begin`) whose outcome has not come back.
    let sending = Atomic<Int>(0)
    /// Set while the loop's write (results and claims) waits for the writer or runs.
    let writing = Atomic<Bool>(false)
    /// Set while a disruption's fan-out holds the one SQLite writer in long chunks.
    let fanOut = Atomic<Bool>(false)

    /// Whether the dispatcher waits for the writer now: a disruption's fan-out, which holds it
    /// for long batches, gives it up early then (`Yielding.sending`), so sending keeps pace.
    public var isWriting: Bool { writing.load(ordering: .relaxed) }

    /// Told by the pipeline (on SQLite, where both share one writer) whether a fan-out is
    /// running: only then does the window follow how long writes take (`depth(after:)`).
    /// A slow disk, a failing database or PostgreSQL's round trips leave it as it is.
    public func fanningOut(_ running: Bool) {
        fanOut.store(running, ordering: .relaxed)
    }

    public init(queue: any OutboxQueue, catalog: TemplateCatalog, channels: [Channel: ChannelSetup], lease: TimeInterval = 120,
                pollInterval: Duration = .milliseconds(250), logger: Logger, metrics: MetricsFactory = MetricsSystem.factory,
                clock: @escaping @Sendable () -> Date) {
        self.queue = queue
        self.catalog = catalog
        self.channels = channels
        endpoints = channels.mapValues(\.endpoint)
        self.lease = lease
        windowPerSlot = queue.windowPerSlot
        self.pollInterval = pollInterval
        self.logger = logger
        self.metrics = DeliveryMetrics(factory: metrics, channels: channels.keys)
        self.clock = clock
        gates = Mutex(GateBook(gates: channels.mapValues(\.gate)))
        doorbell = Doorbell(forwardingTo: wakeup)
        let owner = UUID().uuidString
        self.owner = owner
        handoff = ClaimHandoff(owner: owner, lease: lease, delivered: { [wakeup] in wakeup.ring() })
    }

    /// Sends everything that is due now and records it, then returns: one pass of the loop,
    /// awaited to the end. For tests and tools that drive the clock themselves.
    @discardableResult
    public func drain() async -> Int {
        var unrecorded: [DeliveryRecord] = []
        var attempts = 0
        while true {
            guard let work = await turn(&unrecorded) else { return attempts }  // the store failed; logged
            unrecorded += work.failed
            attempts += work.send.count + work.failed.count
            if work.send.isEmpty && unrecorded.isEmpty { return attempts }
            await withDiscardingTaskGroup { group in
                for (message, setup) in work.send { group.addTask { await self.deliver(message, setup) } }
            }
            unrecorded += takeFinished()
        }
    }

    /// Sleep no longer than the poll interval, nor past the moment a gate opens again.
    func waitLimit() -> Duration {
        let now = clock()
        let opening = gates.withLock { book in book.gates.values.compactMap { $0.nextOpening(now: now) }.min() }
        guard let opening else { return pollInterval }
        let seconds = max(0.001, opening.timeIntervalSince(now))
        return min(pollInterval, .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}

/// A transport's outcome for one of the running loop's sends.
struct Answer: Sendable {
    var message: OutboxMessage
    var outcome: DeliveryOutcome
    var setup: Dispatcher.ChannelSetup
}

/// The dispatcher's gates and, for each send in flight, the breaker epoch it started in.
struct GateBook: Sendable {
    var gates: [Channel: ChannelGate]
    var epochs: [Int64: Int] = [:]
    /// The disabled endpoints the gauges last showed; nil until the first turn records them.
    var disabled: Set<Channel>?
    /// What the breakers did since the last exchange with the other instances, and when that
    /// was; `sharing` turns false when the outbox has no other instances to tell (SQLite).
    var report = FlowReport()
    var sharedAt: ContinuousClock.Instant?
    var sharing = true
    /// How many dispatchers share the rate limits, as last heard.
    var instances = 1

    /// Whether an exchange with the other instances is due: a breaker changed, or a
    /// `Dispatcher.shareInterval` passed since the last.
    var shareDue: Bool {
        sharing && (!report.isEmpty || sharedAt.map { ContinuousClock.now - $0 >= Dispatcher.shareInterval } ?? true)
    }
}
