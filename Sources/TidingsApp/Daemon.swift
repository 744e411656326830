import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore
import Prometheus
import TidingsDelivery
import TidingsHTTP
import TidingsStore
import UnixSignals

/// `tidings serve`: the pipeline, the deadline clock, the dispatcher, the group commit, the HTTP
/// server and the systemd notifier as services of one ServiceGroup, which stops them gracefully
/// on SIGTERM or SIGINT.
public enum Daemon {
    /// `registry` is where swift-metrics' Prometheus factory records; `/metrics` prints it.
    public static func run(runtime: Runtime, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) async throws {
        let lock = try DaemonLock(databasePath: runtime.config.databasePath)
        defer { withExtendedLifetime(lock) {} }  // held until every service has stopped
        let store = try Store(path: runtime.config.databasePath, durability: runtime.config.durability)
        let clock = DaemonClock(source: runtime.config.clockSource)
        try await clock.refresh(from: store)
        let interrupted = try await store.releaseInterruptedClaims(now: clock.now())
        if interrupted > 0 {
            logger.notice("sending again, with the same idempotency keys, messages whose sends the last run did not record",
                          metadata: ["count": "\(interrupted)"])
        }
        let dispatcher = Dispatcher(
            queue: store, catalog: runtime.catalog, channels: try runtime.channelSetups(), lease: runtime.config.dispatcherLeaseSeconds,
            pollInterval: runtime.config.dispatcherPollInterval, logger: logger, clock: clock.now)
        // The group commit applies its own events when the pipeline is caught up, and rings the
        // pipeline for the rest; the pipeline keeps its batches small while requests wait. The
        // group commit is created first, as the pipeline asks it whether requests wait.
        // (A reference in a Mutex, not a closure: a closure read out of a Mutex came back
        // wrapped in one more reabstraction thunk each time, and calls grew slower and deeper.)
        let pipelineBell = Doorbell()
        let applied = Mutex<PipelineService?>(nil)
        let commit = GroupCommit(
            log: store, logger: logger, clock: clock.now, committed: { pipelineBell.ring() },
            inline: InlineProjection(
                engine: runtime.engine, now: clock.now, handoff: runtime.config.dispatchEnabled ? dispatcher.handoff : nil,
                declined: { error in
                    Counter(label: "tidings_inline_batches_declined_total").increment()
                    logger.debug("a group commit left its events to the pipeline: applying them failed", metadata: ["error": "\(error)"])
                }),
            projected: { batch in applied.withLock { $0 }?.applied(batch) })
        let pipeline = PipelineService(
            store: store, engine: runtime.engine, dispatcher: dispatcher.doorbell, batchSize: runtime.config.pipelineBatchSize,
            pollInterval: runtime.config.pipelinePollInterval, logger: logger, fanoutBatch: runtime.config.fanoutBatch, clock: clock.now,
            abandonDeadAppends: { [path = runtime.config.databasePath] in try store.abandonAppends { AppendLock.isGone(databasePath: path, id: $0) } },
            ingestWaiting: { commit.hasWaitingRequests }, doorbell: pipelineBell,
            handoff: runtime.config.dispatchEnabled ? dispatcher.handoff : nil)
        applied.withLock { $0 = pipeline }
        let timers = ClockService(store: store, now: clock.now, simulated: clock, pipeline: pipeline.doorbell, dispatcher: dispatcher.doorbell,
                                  doorbell: pipeline.timers, logger: logger)
        let started = StartupSignal()
        let notify = NotifyService(notifier: SystemdNotifier(), store: store, pipeline: pipeline, logger: logger, started: started, clock: clock.now)
        if runtime.config.http.tokens.isEmpty {
            logger.warning("no API tokens configured (http.tokens): every /v1 request will be refused with 401")
        }
        let http = APIServer.service(APIEnvironment(
            store: store, commit: commit, settings: runtime.config.http, registry: registry,
            pipelineHeartbeat: { Date(timeIntervalSince1970: Double(pipeline.heartbeat.load(ordering: .relaxed))) }, clock: clock.now,
            listening: { started.fire() }), logger: logger)
        let status = try store.status(now: clock.now())
        var metadata: Logger.Metadata = ["database": "\(runtime.config.databasePath)", "head": "\(status.head)",
                                         "checkpoint": "\(status.checkpoint)", "workflows": "\(runtime.workflows.workflows.count)",
                                         "timers": "\(status.timers)", "clock": "\(clock.source.rawValue)"]
        for (channel, config) in runtime.config.channels { metadata[channel.rawValue] = "\(config.routeName)" }
        logger.info("tidings serving", metadata: metadata)
        if !runtime.config.dispatchEnabled {
            logger.warning("sending is off (dispatcher.enabled: false): messages wait in the outbox until it is on again")
        }
        let sending: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.config.dispatchEnabled ? [.init(service: dispatcher)] : []
        let retention: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.config.retention.map { retention in
            [.init(service: RetentionService(store: store, retention: retention, spoolDirectory: runtime.config.spoolDirectory,
                                             now: clock.now, logger: logger))]
        } ?? []
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: pipeline),
                .init(service: timers),
            ] + sending + retention + [
                .init(service: commit),
                .init(service: notify),
                // Last, so it stops first: no new requests, those in flight finish, then the
                // group commit drains and the pipeline and dispatcher stop.
                .init(service: http),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            // Say why in the log (the journal), then exit non-zero: systemd shows the cause.
            logger.critical("tidings stopped: a service failed", metadata: ["error": "\(error)"])
            throw DaemonError(.serviceFailed, "a service failed: \(error)")
        }
        logger.info("tidings stopped")
    }
}
