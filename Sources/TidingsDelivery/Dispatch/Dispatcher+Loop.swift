import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TidingsCore

extension Dispatcher {
    /// The running loop's own state; only the loop touches it.
    struct Loop {
        /// Messages claimed ahead of their send, per channel, first to go first.
        var ahead: [Channel: [OutboxMessage]] = [:]
        /// Results not yet handed to the writer, and since when the oldest of them waits.
        var unrecorded: [DeliveryRecord] = [] {
            didSet { if unrecorded.isEmpty { unrecordedSince = nil } else if unrecordedSince == nil { unrecordedSince = .now } }
        }
        var unrecordedSince: ContinuousClock.Instant?
        /// Claims to give back unsent: held so long their lease is half gone.
        var releasing: [Int64] = []
        /// Whether a write (record, release, claim) is on its way to the database.
        var writing = false
        /// Per channel, the sends that finished and are not recorded yet: waiting for the next
        /// write, and on their way in the current one. With the sends in flight they are what a
        /// crash would send twice, and they stay within the channel's concurrency.
        var finishedUnwritten: [Channel: Int] = [:]
        var recording: [Channel: Int] = [:]
        /// Sends in flight whose claims a forget withdrew: if a transport gives one back unsent,
        /// it is dropped, never started again.
        var withdrawnInFlight: Set<Int64> = []
        /// When a channel's last claim came back short: nothing more was due then. It is
        /// claimed again when the pipeline queues messages or after the poll interval.
        /// Monotonic time: a simulated clock that stands still must not stop the polling.
        var exhausted: [Channel: ContinuousClock.Instant] = [:]
        /// The pipeline rang while a write was on its way: that write's claim may have missed the
        /// new messages, so it marks nothing exhausted.
        var rungDuringWrite = false
        /// When the last write failed: the next waits a poll interval, so a failing database
        /// is not hammered.
        var failedAt: ContinuousClock.Instant?
        /// When the claims held were last looked at for leases half gone: once a poll interval,
        /// not at every step (a step comes with every finished send).
        var leasesCheckedAt: ContinuousClock.Instant?
        /// How many times the usual window the channels claim ahead and leave unrecorded: more
        /// while a fan-out makes writes take long to come back (`depth(after:)`).
        var depth = 1
    }

    /// What a write brought back: the claim, or the error and the results it could not record.
    struct Written: Sendable {
        var wanted: [Channel: Int]
        var sends: [Channel: Int]
        var result: Result<OutboxClaim, any Error>
        var records: [DeliveryRecord]
        var releasing: [Int64]
        /// From the write's start to its result, waiting for the writer included.
        var took: Duration
    }

    /// The most the window grows while a disruption's fan-out holds the writer for tens of
    /// milliseconds at a time (`fanningOut`): a window sized for a write every `quickWrite`
    /// would send a few hundred messages a second meanwhile. A crash then sends again at most
    /// this many times the queue's `windowPerSlot` per unit of concurrency (64 on SQLite, as
    /// before its window grew from four to sixteen).
    public static let mostDepth = 4

    /// The write SQLite's window (`Store.windowPerSlot`) is sized for: claims for 16 webhooks
    /// last about this long at full speed.
    static let quickWrite: Duration = .milliseconds(16)

    /// The window for the next writes: as many quick writes as the last one took, within
    /// `mostDepth`. It shrinks as soon as writes are quick again.
    static func depth(after took: Duration) -> Int {
        Int(min(Double(mostDepth), max(1, (took / quickWrite).rounded(.up))))
    }

    /// How long results may wait for a write when nothing else needs one: a write takes the
    /// writer from ingest and the pipeline, with a commit and an fsync, so results are
    /// gathered for a while rather than written one or two at a time. Sooner when a channel's
    /// unrecorded results fill half its window, since they hold its sends back.
    static let recordDelay: Duration = .milliseconds(10)

    /// Waits, even in a cancelled task (where the doorbell's wait and `Task.sleep` return at once).
    static func pause(milliseconds: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { continuation.resume() }
        }
    }

    /// Sends started in one step that one task renders; more are split between two tasks.
    static let renderedTogether = 8

    /// Claims ahead, sends from what is claimed as the gates allow, and records results behind
    /// in group commits: one write at a time, taking every result that finished meanwhile. No
    /// send waits for a commit, and a crash loses nothing: an unrecorded send is sent again,
    /// with the same key, after the restart.
    public func run() async throws {
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            var loop = Loop()
            await withDiscardingTaskGroup { group in
                while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    step(&loop, group: &group)
                    await wakeup.wait(timeout: waitLimit(loop))
                }
                // What the transports hold for a connection comes back unsent, not after the
                // sends before it: a stop waits only for the sends on connections.
                for (_, setup) in channels { setup.transport.giveBack() }
            }
            // Every send handed over comes back: sent, failed, or given back. Cancelled or not,
            // as tasks per send were awaited before: what is not recorded is sent again.
            while sending.load(ordering: .acquiring) > 0 {
                if Task.isCancelled {
                    await Self.pause(milliseconds: 10)
                } else {
                    await wakeup.wait(timeout: .milliseconds(10))
                }
            }
            takeBack(takeGivenBack(), into: &loop)
            // Every send and the last write have finished: record what is left, and give back
            // what was claimed ahead and never sent, with what the pipeline claimed for us
            // (waiting for a batch that holds room, so its claims are not left to a lease).
            let closing = ContinuousClock.now
            if handoff.close() {
                while handoff.hasOutstanding && !Task.isCancelled && ContinuousClock.now - closing < .seconds(5) {
                    await wakeup.wait(timeout: .milliseconds(10))
                }
            }
            absorb(&loop)
            let handedOver = handoff.take().flatMap(\.messages)
            let rest = loop.unrecorded + takeFinished()
            let unsent = loop.releasing + loop.ahead.values.flatMap { $0.map(\.id) } + handedOver.map(\.id)
            do {
                _ = try await queue.settleAndClaim(rest, releasing: unsent, room: [:], endpoints: endpoints, now: clock(), lease: lease,
                                                   owner: owner)
            } catch {
                logger.error("cannot record delivery results at shutdown; the next start sends the unrecorded again, with the same keys",
                             metadata: ["count": "\(rest.count)", "claimed": "\(unsent.count)", "error": "\(error)"])
            }
            // What the breakers noted last goes with the goodbye.
            if let last = gates.withLock({ book -> FlowReport? in
                guard book.sharing else { return nil }
                defer { book.report = FlowReport() }
                return book.report
            }) {
                var goodbye = last
                goodbye.leaving = true
                await share(goodbye, now: clock())
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.wakeup.ring()
        }
        for (_, setup) in channels { setup.transport.close() }
        logger.info("dispatcher stopped")
    }

    /// One pass of the loop: take in what finished and what the last write claimed, start what
    /// the gates have room for, and start the next write if one is due.
    func step(_ loop: inout Loop, group: inout DiscardingTaskGroup) {
        let finished = takeFinished()
        takeBack(takeGivenBack(), into: &loop)
        for record in finished {
            loop.finishedUnwritten[record.message.channel, default: 0] += 1
            if !loop.withdrawnInFlight.isEmpty { loop.withdrawnInFlight.remove(record.message.id) }
        }
        loop.unrecorded += finished
        // Claims handed over first: a write's result may withdraw one of them (a forget).
        takeHandedOver(&loop)
        absorb(&loop)
        if doorbell.takeRing() {
            loop.exhausted.removeAll()
            if loop.writing { loop.rungDuringWrite = true }
        }
        let now = clock()
        // Rendered off the loop, a task per batch rather than per send; the other core takes
        // the second half of a large one.
        let starting = startable(&loop, now: now)
        if starting.count > Self.renderedTogether {
            let half = (starting.count + 1) / 2
            let (first, second) = (Array(starting[..<half]), Array(starting[half...]))
            group.addTask { self.begin(first) }
            group.addTask { self.begin(second) }
        } else if !starting.isEmpty {
            group.addTask { self.begin(starting) }
        }
        defer { handoff.offer(room(loop)) }
        guard !loop.writing, loop.failedAt.map({ ContinuousClock.now - $0 >= pollInterval }) ?? true else { return }
        let wanted = wants(loop)
        guard recordingDue(loop) || !loop.releasing.isEmpty || wanted.values.contains(where: { $0 > 0 }) || shareDue() else { return }
        let records = loop.unrecorded
        let releasing = loop.releasing
        let sends = loop.finishedUnwritten
        loop.unrecorded.removeAll()
        loop.releasing.removeAll()
        loop.finishedUnwritten.removeAll()
        loop.recording = sends
        loop.writing = true
        let report = takeFlowReport()
        group.addTask {
            if let report { await self.share(report, now: now) }
            let result: Result<OutboxClaim, any Error>
            let started = ContinuousClock.now
            self.writing.store(true, ordering: .relaxed)
            do {
                result = .success(try await self.queue.settleAndClaim(records, releasing: releasing, room: wanted, endpoints: self.endpoints,
                                                                      now: now, lease: self.lease, owner: self.owner))
            } catch {
                result = .failure(error)
            }
            self.writing.store(false, ordering: .relaxed)
            let took = ContinuousClock.now - started
            self.written.withLock { $0 = Written(wanted: wanted, sends: sends, result: result, records: records, releasing: releasing, took: took) }
            self.wakeup.ring()
        }
    }

    /// Whether results must be written now, though nothing is to be claimed: the oldest waited
    /// `recordDelay`, or a channel's unrecorded results fill half its window.
    func recordingDue(_ loop: Loop) -> Bool {
        guard let since = loop.unrecordedSince else { return false }
        if ContinuousClock.now - since >= Self.recordDelay { return true }
        return gates.withLock { book in
            loop.finishedUnwritten.contains { channel, count in
                count * 2 >= (book.gates[channel]?.concurrency ?? 1) * windowPerSlot * loop.depth
            }
        }
    }

    /// Sleep no longer than the poll interval, past the moment a gate opens again, or past the
    /// moment waiting results are due to be written.
    func waitLimit(_ loop: Loop) -> Duration {
        let limit = waitLimit()
        guard !loop.writing, let since = loop.unrecordedSince else { return limit }
        let left = Self.recordDelay - (ContinuousClock.now - since)
        return max(.milliseconds(1), min(limit, left))
    }

    /// Takes in what the last write brought back.
    func absorb(_ loop: inout Loop) {
        guard let written = written.withLock({ written in defer { written = nil }; return written }) else { return }
        loop.writing = false
        if case .success = written.result, fanOut.load(ordering: .relaxed) {
            loop.depth = Self.depth(after: written.took)
        } else {
            loop.depth = 1
        }
        let rungDuring = loop.rungDuringWrite
        loop.rungDuringWrite = false
        loop.recording.removeAll()
        switch written.result {
        case .failure(let error):
            // Kept for the next write; if the process dies first, its claims are released at
            // the next start and the messages are sent again with the same key.
            logger.error("cannot record results or claim messages", metadata: ["error": "\(error)"])
            loop.unrecorded = written.records + loop.unrecorded
            loop.releasing += written.releasing
            loop.finishedUnwritten.merge(written.sends, uniquingKeysWith: +)
            loop.failedAt = .now
        case .success(let claim):
            loop.failedAt = nil
            // A forget took these back: they stay unsent. What a transport kept of a message
            // sent while its customer was being forgotten goes.
            if !claim.withdrawn.isEmpty {
                for channel in Array(loop.ahead.keys) { loop.ahead[channel]?.removeAll { claim.withdrawn.contains($0.id) } }
                let inFlight = gates.withLock { book in claim.withdrawn.filter { book.epochs[$0] != nil } }
                loop.withdrawnInFlight.formUnion(inFlight)
            }
            for (channel, keys) in claim.erased { channels[channel]?.transport.erase(keys: keys) }
            let work = sort(claim)
            loop.unrecorded += work.failed
            var got: [Channel: Int] = [:]
            for (message, _) in work.send {
                loop.ahead[message.channel, default: []].append(message)
                got[message.channel, default: 0] += 1
            }
            for (channel, wanted) in written.wanted where wanted > 0 {
                if got[channel, default: 0] < wanted && !rungDuring {
                    loop.exhausted[channel] = .now
                } else {
                    loop.exhausted[channel] = nil
                }
                if got[channel, default: 0] > 0 { loop.ahead[channel]?.sort(by: OutboxMessage.sendsBefore) }
            }
        }
    }

    /// Puts sends given back unsent at the front of their channels' claims, in their order; a
    /// forget's withdrawn claims are dropped (the forget took them back, and erased them).
    func takeBack(_ messages: [OutboxMessage], into loop: inout Loop) {
        let messages = messages.filter { loop.withdrawnInFlight.remove($0.id) == nil }
        guard !messages.isEmpty else { return }
        for (channel, back) in Dictionary(grouping: messages, by: \.channel) {
            loop.ahead[channel, default: []].insert(contentsOf: back.sorted(by: OutboxMessage.sendsBefore), at: 0)
        }
    }

    /// Takes in what the pipeline claimed for this dispatcher as it wrote it. A channel whose
    /// claims filled the room may have more due, so it is no longer taken for exhausted.
    func takeHandedOver(_ loop: inout Loop) {
        for delivery in handoff.take() {
            var got: Set<Channel> = []
            for message in delivery.messages {
                loop.ahead[message.channel, default: []].append(message)
                got.insert(message.channel)
            }
            for channel in got {
                loop.ahead[channel]?.sort(by: OutboxMessage.sendsBefore)
                if delivery.filled(channel) { loop.exhausted[channel] = nil }
            }
        }
    }

    /// The messages each gate lets start now, taken from the front of the channel's claims, as
    /// long as the channel's sends in flight and its unrecorded results stay within
    /// `windowPerSlot` times its concurrency (times the loop's depth).
    /// Claims held so long that half their lease is gone are given back instead: a dispatcher
    /// on another machine may take over a lease that runs out.
    /// The claims are changed in place: copying a channel's queue of messages at every step was
    /// a tenth of a webhook's CPU. So the whole queue is looked at once a poll interval, and the
    /// claims about to start at every step.
    func startable(_ loop: inout Loop, now: Date) -> [(OutboxMessage, ChannelSetup)] {
        func halfGone(_ message: OutboxMessage) -> Bool {
            guard let until = message.progress.leaseUntil else { return false }
            return until.timeIntervalSince(now) < lease / 2
        }
        if loop.leasesCheckedAt.map({ ContinuousClock.now - $0 >= pollInterval }) ?? true {
            loop.leasesCheckedAt = .now
            // The keys copied first: a view of them would share the dictionary's storage, and
            // each change below would copy it whole.
            for channel in Array(loop.ahead.keys) {
                loop.ahead[channel]?.removeAll { message in
                    guard halfGone(message) else { return false }
                    loop.releasing.append(message.id)
                    return true
                }
            }
        }
        var starting: [(OutboxMessage, ChannelSetup)] = []
        gates.withLock { book in
            for channel in Array(loop.ahead.keys) {
                guard let queued = loop.ahead[channel]?.count, queued > 0, var gate = book.gates[channel], let setup = channels[channel] else {
                    continue
                }
                let unrecorded = (loop.finishedUnwritten[channel] ?? 0) + (loop.recording[channel] ?? 0)
                let count = max(0, min(gate.room(now: now), gate.concurrency * windowPerSlot * loop.depth - gate.inFlight - unrecorded, queued))
                for message in loop.ahead[channel, default: []].prefix(count) {
                    guard !halfGone(message) else {
                        loop.releasing.append(message.id)
                        continue
                    }
                    book.epochs[message.id] = gate.started(1, now: now)
                    starting.append((message, setup))
                }
                book.gates[channel] = gate
                if count > 0 { loop.ahead[channel]?.removeFirst(count) }
            }
        }
        return starting
    }

    /// The room offered to the pipeline's claims per channel, which take only what must go out
    /// first: up to `windowPerSlot` times the concurrency of those, whatever else is held (they
    /// go before it); none while the breaker is paused (its probe is claimed here) or the
    /// endpoint is disabled (its messages fail at once, which only this dispatcher's claim tells).
    func room(_ loop: Loop) -> [Channel: Int] {
        gates.withLock { book in
            var room: [Channel: Int] = [:]
            for (channel, gate) in book.gates where !gate.breaker.isPaused && !(book.disabled?.contains(channel) ?? true) {
                let held = loop.ahead[channel]?.firstPriorityCount ?? 0
                room[channel] = max(0, gate.concurrency * windowPerSlot - held)
            }
            return room
        }
    }

    /// How many more messages to claim per channel: up to `windowPerSlot` times its concurrency
    /// (times the loop's depth, unless it is rate-limited), once it is down to half of that; one
    /// at most while its breaker is paused (the probe); none for a channel whose last claim found
    /// nothing more, until there may be more.
    func wants(_ loop: Loop) -> [Channel: Int] {
        gates.withLock { book in
            var wanted: [Channel: Int] = [:]
            for (channel, gate) in book.gates {
                let held = loop.ahead[channel]?.count ?? 0
                // A rate-limited channel sends no faster for a wider window: its claims would
                // only wait longer, towards half their lease.
                let widened = gate.limiter == nil ? loop.depth : 1
                var window = gate.breaker.isPaused ? 1 : gate.concurrency * windowPerSlot * widened
                // Nor more than its rate sends in a quarter of a lease: claims held past half
                // their lease are given back, to be claimed again.
                if let limiter = gate.limiter { window = min(window, max(gate.concurrency, Int(limiter.rate * lease / 4))) }
                if let since = loop.exhausted[channel], ContinuousClock.now - since < pollInterval { continue }
                guard held <= window / 2 else { continue }
                wanted[channel] = window - held
            }
            return wanted
        }
    }
}
