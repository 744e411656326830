import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore

/// Appends the events of HTTP requests. Requests that arrive while a commit is on its way to
/// disk wait together and share the next one: one transaction and one fsync for all of them,
/// so many small requests do not cost one fsync each. A request returns only once its events
/// are durable.
public final class GroupCommit: Service {
    struct Job: Sendable {
        var events: [EncodedEvent]
        var continuation: CheckedContinuation<AppendResult, any Error>
    }

    struct Queue: Sendable {
        var jobs: [Job] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    let log: any EventLog
    let logger: Logger
    let clock: @Sendable () -> Date
    /// Rung after each commit the pipeline must look at: events it did not apply in the commit.
    let committed: @Sendable () -> Void
    /// The pipeline's work on the group's own events, in its transaction, when it is caught up;
    /// `projected` takes each batch so applied (the pipeline's counters and rings).
    let inline: InlineProjection?
    /// When groups apply their own events: not while the writer is saturated.
    let intakeLoad: IntakeLoad
    let projected: @Sendable (PipelineBatch) -> Void
    private let queue = Mutex(Queue())
    /// Requests waiting for their events to be on disk: the pipeline keeps its batches small
    /// while there are any, so a request waits for a few milliseconds of its work at most.
    private let waiting = Atomic<Int>(0)

    /// Whether requests are waiting for the writer now.
    public var hasWaitingRequests: Bool { waiting.load(ordering: .relaxed) > 0 }

    public init(log: any EventLog, logger: Logger, clock: @escaping @Sendable () -> Date,
                committed: @escaping @Sendable () -> Void = {}, inline: InlineProjection? = nil, intakeLoad: IntakeLoad = IntakeLoad(),
                projected: @escaping @Sendable (PipelineBatch) -> Void = { _ in }) {
        self.inline = inline
        self.intakeLoad = intakeLoad
        self.projected = projected
        self.log = log
        self.logger = logger
        self.clock = clock
        self.committed = committed
    }

    /// Appends one request's events; returns once they are on disk. They are encoded and
    /// sealed here first (`EventLog.prepare`), on the request's task, so that the one writer
    /// only stores them.
    public func append(_ events: [CloudEvent]) async throws -> AppendResult {
        let events = log.prepare(events)
        return try await withCheckedThrowingContinuation { continuation in
            let (accepted, waiter) = queue.withLock { queue -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !queue.stopped else { return (false, nil) }
                queue.jobs.append(Job(events: events, continuation: continuation))
                defer { queue.waiter = nil }
                return (true, queue.waiter)
            }
            if accepted { waiting.add(1, ordering: .relaxed) }
            guard accepted else {
                continuation.resume(throwing: Problem(.serviceUnavailable, "Service Unavailable", detail: "tidings is stopping; send the events again"))
                return
            }
            waiter?.resume()
        }
    }

    public func run() async throws {
        // Stopped by a graceful shutdown, or by cancellation when another service failed (the
        // HTTP port was taken): either way what is queued is committed, then the loop ends.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                var load = intakeLoad
                while true {
                    let (jobs, waited) = await nextJobs()
                    guard !jobs.isEmpty else { break }
                    await commit(jobs, projecting: projection(for: jobs.count, waited: waited, load: &load))
                }
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    private func stop() {
        let waiter = queue.withLock { queue in
            queue.stopped = true
            defer { queue.waiter = nil }
            return queue.waiter
        }
        waiter?.resume()
    }

    /// The inline projection for a group of `requests`, unless ingest's writer is saturated
    /// (`IntakeLoad`).
    func projection(for requests: Int, waited: Duration, load: inout IntakeLoad) -> InlineProjection? {
        guard let inline else { return nil }
        if load.record(requests: requests, waited: waited) { logChange(load) }
        return load.appliesInline ? inline : nil
    }

    /// Everything queued, waiting if nothing is, and how long it waited; empty once stopped
    /// and drained.
    private func nextJobs() async -> ([Job], waited: Duration) {
        var waitedSince: ContinuousClock.Instant?
        while true {
            let jobs: [Job]? = queue.withLock { queue in
                guard queue.jobs.isEmpty else {
                    defer { queue.jobs.removeAll() }
                    return queue.jobs
                }
                return queue.stopped ? [] : nil
            }
            if let jobs { return (jobs, waitedSince.map { ContinuousClock.now - $0 } ?? .zero) }
            if waitedSince == nil { waitedSince = .now }
            await withCheckedContinuation { continuation in
                let ready = queue.withLock { queue -> Bool in
                    if !queue.jobs.isEmpty || queue.stopped { return true }
                    queue.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Said once each way, not per group: an operator sees when ingest ran at its limit.
    private func logChange(_ load: IntakeLoad) {
        let metadata: Logger.Metadata = ["average_group": "\(Int(load.averageGroup.rounded()))"]
        if load.appliesInline {
            logger.info("group commits apply their own events again", metadata: metadata)
        } else {
            logger.info("ingest's writer is saturated: group commits only store their events, and the pipeline applies them", metadata: metadata)
        }
    }

    private func commit(_ jobs: [Job], projecting: InlineProjection?) async {
        do {
            let batches = jobs.map(\.events)
            let (results, applied) = if let projecting {
                try await log.append(batches: batches, now: clock(), projecting: projecting)
            } else {
                (try await log.append(batches: batches, now: clock()), nil as PipelineBatch?)
            }
            let appended = results.reduce(0) { $0 + $1.appended }
            Counter(label: "tidings_events_appended_total").increment(by: appended)
            let leftToPipeline = projecting == nil && inline != nil
            if leftToPipeline { Counter(label: "tidings_group_commits_left_to_pipeline_total").increment() }
            Recorder(label: "tidings_group_commit_requests").record(jobs.count)
            waiting.subtract(jobs.count, ordering: .relaxed)
            for (job, result) in zip(jobs, results) { job.continuation.resume(returning: result) }
            if let applied { projected(applied) }
            if appended > (applied?.processed ?? 0) { committed() }
        } catch {
            waiting.subtract(jobs.count, ordering: .relaxed)
            logger.error("cannot append events", metadata: ["requests": "\(jobs.count)", "error": "\(error)"])
            for job in jobs {
                job.continuation.resume(throwing: Problem(.serviceUnavailable, "Service Unavailable",
                                                          detail: "the events could not be stored; nothing was stored, send them again"))
            }
        }
    }
}
