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
    let projected: @Sendable (PipelineBatch) -> Void
    private let queue = Mutex(Queue())
    /// Requests waiting for their events to be on disk: the pipeline keeps its batches small
    /// while there are any, so a request waits for a few milliseconds of its work at most.
    private let waiting = Atomic<Int>(0)

    /// Whether requests are waiting for the writer now.
    public var hasWaitingRequests: Bool { waiting.load(ordering: .relaxed) > 0 }

    public init(log: any EventLog, logger: Logger, clock: @escaping @Sendable () -> Date,
                committed: @escaping @Sendable () -> Void = {}, inline: InlineProjection? = nil,
                projected: @escaping @Sendable (PipelineBatch) -> Void = { _ in }) {
        self.inline = inline
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
                var load = IntakeLoad()
                while true {
                    let jobs = await nextJobs()
                    guard !jobs.isEmpty else { break }
                    if inline != nil, load.record(requests: jobs.count) { logChange(load) }
                    await commit(jobs, inline: load.appliesInline ? inline : nil)
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

    /// Everything queued, waiting if nothing is; empty once stopped and drained.
    private func nextJobs() async -> [Job] {
        while true {
            let jobs: [Job]? = queue.withLock { queue in
                guard queue.jobs.isEmpty else {
                    defer { queue.jobs.removeAll() }
                    return queue.jobs
                }
                return queue.stopped ? [] : nil
            }
            if let jobs { return jobs }
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

    private func commit(_ jobs: [Job], inline: InlineProjection?) async {
        do {
            let batches = jobs.map(\.events)
            let (results, applied) = if let inline {
                try await log.append(batches: batches, now: clock(), projecting: inline)
            } else {
                (try await log.append(batches: batches, now: clock()), nil as PipelineBatch?)
            }
            let appended = results.reduce(0) { $0 + $1.appended }
            Counter(label: "tidings_events_appended_total").increment(by: appended)
            if inline == nil, self.inline != nil { Counter(label: "tidings_group_commits_left_to_pipeline_total").increment() }
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
