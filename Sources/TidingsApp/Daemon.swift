import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore
import Prometheus
import TidingsDelivery
import TidingsHTTP
import TidingsPostgres
import TidingsStore
import UnixSignals

/// `tidings serve`: the pipeline, the deadline clock, the dispatcher, the group commit, the HTTP
/// server and the systemd notifier as services of one ServiceGroup, which stops them gracefully
/// on SIGTERM or SIGINT.
public enum Daemon {
    /// `registry` is where swift-metrics' Prometheus factory records; `/metrics` prints it.
    public static func run(runtime: Runtime, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) async throws {
        switch runtime.config.database {
        case .sqlite(let path):
            let lock = try DaemonLock(databasePath: path)
            defer { withExtendedLifetime(lock) {} }  // held until every service has stopped
            let store = try Store(path: path, durability: runtime.config.durability)
            let backend = Backend(log: store, pipeline: store, timers: store, outbox: store, status: store, reads: store, retention: store, store: store,
                                  inline: true,
                                  abandonDeadAppends: { try store.abandonAppends { AppendLock.isGone(databasePath: path, id: $0) } },
                                  description: "\(path)")
            try await run(runtime: runtime, backend: backend, logger: logger, registry: registry)
        case .postgres(let settings):
            let database = PostgresBackend(settings: settings, logger: logger)
            let log = PostgresLog(backend: database)
            let backend = Backend(log: log, pipeline: PostgresPipeline(log: log), timers: PostgresTimers(log: log),
                                  outbox: PostgresOutbox(backend: database), status: PostgresStatus(backend: database),
                                  reads: PostgresReads(backend: database), retention: PostgresOutbox(backend: database), store: nil, inline: false,
                                  abandonDeadAppends: { 0 }, services: [.init(service: PostgresPoolService(backend: database))],
                                  description: "\(settings)")
            try await run(runtime: runtime, backend: backend, logger: logger, registry: registry) {
                // The pool serves from here on; the schema is brought up to date before any service starts.
                try await reach(database, logger: logger)
                try await database.migrate()
            }
        }
    }

    static func run(runtime: Runtime, backend: Backend, logger: Logger, registry: PrometheusCollectorRegistry,
                    prepare: @Sendable () async throws -> Void = {}) async throws {
        try await withPool(backend) {
            try await prepare()
            try await serve(runtime: runtime, backend: backend, logger: logger, registry: registry)
        }
    }

    /// Waits for PostgreSQL to answer: a database that is down when the daemon starts (the
    /// machine booted before it, a failover) is asked again, 1 s later, then 2, 4, up to 30 s
    /// apart, saying why each time; never a reason to exit.
    static func reach(_ database: PostgresBackend, logger: Logger) async throws {
        var delay = Duration.seconds(1)
        while true {
            do {
                return try await database.probe()
            } catch {
                logger.warning("cannot reach PostgreSQL; trying again", metadata: ["error": "\(error)", "in": "\(delay)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// Runs the backend's own services (the PostgreSQL pool) around `body`.
    static func withPool(_ backend: Backend, _ body: () async throws -> Void) async throws {
        guard !backend.services.isEmpty else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for configuration in backend.services {
                group.addTask { try await configuration.service.run() }
            }
            defer { group.cancelAll() }
            try await body()
        }
    }

    static func serve(runtime: Runtime, backend: Backend, logger: Logger, registry: PrometheusCollectorRegistry) async throws {
        let store = backend.store
        let clock = DaemonClock(source: runtime.config.clockSource)
        try await clock.refresh(from: backend.timers)
        let interrupted = try await backend.outbox.releaseInterruptedClaims(now: clock.now())
        if interrupted > 0 {
            logger.notice("sending again, with the same idempotency keys, messages whose sends the last run did not record",
                          metadata: ["count": "\(interrupted)"])
        }
        let dispatcher = Dispatcher(
            queue: backend.outbox, catalog: runtime.catalog, channels: try runtime.channelSetups(), lease: runtime.config.dispatcherLeaseSeconds,
            pollInterval: runtime.config.dispatcherPollInterval, logger: logger, clock: clock.now)
        // The group commit applies its own events when the pipeline is caught up, and rings the
        // pipeline for the rest; the pipeline keeps its batches small while requests wait. The
        // group commit is created first, as the pipeline asks it whether requests wait.
        // (A reference in a Mutex, not a closure: a closure read out of a Mutex came back
        // wrapped in one more reabstraction thunk each time, and calls grew slower and deeper.)
        let pipelineBell = Doorbell()
        let applied = Mutex<PipelineService?>(nil)
        let commit = GroupCommit(
            log: backend.log, logger: logger, clock: clock.now, committed: { pipelineBell.ring() },
            inline: !backend.inline ? nil : InlineProjection(
                engine: runtime.engine, now: clock.now, handoff: runtime.config.dispatchEnabled ? dispatcher.handoff : nil,
                declined: { error in
                    Counter(label: "tidings_inline_batches_declined_total").increment()
                    logger.debug("a group commit left its events to the pipeline: applying them failed", metadata: ["error": "\(error)"])
                }),
            projected: { batch in applied.withLock { $0 }?.applied(batch) })
        // One writer for both in SQLite; PostgreSQL's dispatcher writes beside the pipeline.
        let sharesWriter = backend.store != nil
        let sendingWaits: @Sendable () -> Bool = { sharesWriter && dispatcher.isWriting }
        let fanningOut: @Sendable (Bool) -> Void = { running in dispatcher.fanningOut(sharesWriter && running) }
        let pipeline = PipelineService(
            store: backend.pipeline, engine: runtime.engine, dispatcher: dispatcher.doorbell, batchSize: runtime.config.pipelineBatchSize,
            pollInterval: runtime.config.pipelinePollInterval, logger: logger, fanoutBatch: runtime.config.fanoutBatch, clock: clock.now,
            abandonDeadAppends: backend.abandonDeadAppends,
            ingestWaiting: { commit.hasWaitingRequests },
            sendingWaits: sendingWaits, fanningOut: fanningOut, doorbell: pipelineBell,
            handoff: runtime.config.dispatchEnabled ? dispatcher.handoff : nil)
        applied.withLock { $0 = pipeline }
        let timers = ClockService(store: backend.timers, now: clock.now, simulated: clock, pipeline: pipeline.doorbell, dispatcher: dispatcher.doorbell,
                                  doorbell: pipeline.timers, logger: logger)
        let started = StartupSignal()
        let notify = NotifyService(notifier: SystemdNotifier(), store: backend.status, pipeline: pipeline, logger: logger, started: started, clock: clock.now)
        if runtime.config.http.tokens.isEmpty {
            logger.warning("no API tokens configured (http.tokens): every /v1 request will be refused with 401")
        }
        let http = APIServer.service(APIEnvironment(
            store: store, status: backend.status, reads: backend.reads, commit: commit, settings: runtime.config.http, registry: registry,
            pipelineHeartbeat: { Date(timeIntervalSince1970: Double(pipeline.heartbeat.load(ordering: .relaxed))) }, clock: clock.now,
            listening: { started.fire() }, catalog: runtime.catalog, engine: runtime.engine), logger: logger)
        let status = try await backend.status.status(now: clock.now())
        var metadata: Logger.Metadata = ["database": "\(backend.description)", "head": "\(status.head)",
                                         "checkpoint": "\(status.checkpoint)", "workflows": "\(runtime.workflows.workflows.count)",
                                         "timers": "\(status.timers)", "clock": "\(clock.source.rawValue)"]
        for (channel, config) in runtime.config.channels { metadata[channel.rawValue] = "\(config.routeName)" }
        logger.info("tidings serving", metadata: metadata)
        if !runtime.config.dispatchEnabled {
            logger.warning("sending is off (dispatcher.enabled: false): messages wait in the outbox until it is on again")
        }
        let sending: [any Service] = runtime.config.dispatchEnabled ? [dispatcher] : []
        var retention: [any Service] = []
        if let days = runtime.config.retention {
            retention = [RetentionService(store: backend.retention, retention: days, spoolDirectory: runtime.config.spoolDirectory,
                                          now: clock.now, logger: logger)]
        }
        // SQLite: the write-ahead log is copied back beside the writer, not in its commits.
        let checkpoints: [ServiceGroupConfiguration.ServiceConfiguration] = try store.map { store in
            [.init(service: CheckpointService(checkpoints: try store.walCheckpoints(), logger: logger))]
        } ?? []
        // A group stops its services in reverse order, each after the last has stopped. The
        // loops and the HTTP server stop together: no new requests, those in flight finish,
        // a running batch stops at its next check, and the dispatcher records what it sent.
        // Then the group commit drains, and the write-ahead log is copied back last.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: checkpoints + [
                .init(service: commit),
                .init(service: StoppingTogether([pipeline, timers] + sending + retention + [http])),
                .init(service: notify),
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
