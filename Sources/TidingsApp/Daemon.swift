import Foundation
import Logging
import ServiceLifecycle
import TidingsCore
import TidingsDelivery
import TidingsStore
import UnixSignals

/// `tidings serve`: the pipeline, the dispatcher and the systemd notifier as services of one
/// ServiceGroup, which stops them gracefully on SIGTERM or SIGINT.
public enum Daemon {
    public static func run(runtime: Runtime, logger: Logger) async throws {
        let lock = try DaemonLock(databasePath: runtime.config.databasePath)
        defer { withExtendedLifetime(lock) {} }  // held until every service has stopped
        let store = try Store(path: runtime.config.databasePath, durability: runtime.config.durability)
        let interrupted = try store.releaseInterruptedClaims(now: Date())
        if interrupted > 0 {
            logger.notice("sending again, with the same idempotency keys, messages whose sends the last run did not record",
                          metadata: ["count": "\(interrupted)"])
        }
        let dispatcher = Dispatcher(
            store: store, catalog: runtime.catalog, channels: try runtime.channelSetups(), lease: runtime.config.dispatcherLeaseSeconds,
            pollInterval: runtime.config.dispatcherPollInterval, logger: logger)
        let pipeline = PipelineService(
            store: store, engine: runtime.engine, dispatcher: dispatcher.doorbell, batchSize: runtime.config.pipelineBatchSize,
            pollInterval: runtime.config.pipelinePollInterval, logger: logger)
        let notify = NotifyService(notifier: SystemdNotifier(), store: store, pipeline: pipeline, logger: logger)
        let status = try store.status(now: Date())
        var metadata: Logger.Metadata = ["database": "\(runtime.config.databasePath)", "head": "\(status.head)",
                                         "checkpoint": "\(status.checkpoint)", "workflows": "\(runtime.workflows.workflows.count)"]
        for (channel, config) in runtime.config.channels { metadata[channel.rawValue] = "\(config.routeName)" }
        logger.info("tidings serving", metadata: metadata)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: pipeline),
                .init(service: dispatcher),
                .init(service: notify),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.info("tidings stopped")
    }
}
