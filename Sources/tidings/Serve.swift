import ArgumentParser
import Metrics
import Prometheus
import TidingsApp

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon: HTTP API, pipeline, dispatcher and systemd notifications.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let logger = bootstrapLogging(level: runtime.config.logLevel)
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Seconds from an event to its message being accepted: from instant to an hour.
            let latency: [Duration] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600].map { .milliseconds(Int64($0 * 1_000)) }
            factory.defaultDurationHistogramBuckets = latency
            MetricsSystem.bootstrap(factory)
            try await Daemon.run(runtime: runtime, logger: logger, registry: registry)
        }
    }
}
