import Foundation
import TidingsCore
import Logging
import ServiceLifecycle
import TidingsStore

/// Tells systemd the daemon is ready, keeps a one-line `STATUS=` current, and sends
/// `WATCHDOG=1` at half of `WATCHDOG_USEC`, but only while the pipeline makes progress
/// (`Watchdog`), so a stuck daemon gets restarted rather than kept alive by a healthy timer.
public struct NotifyService: Service {
    let notifier: SystemdNotifier
    let store: any StatusSource
    let pipeline: PipelineService
    let logger: Logger
    let statusInterval: Duration
    /// READY=1 waits until the HTTP server listens.
    let started: StartupSignal
    let clock: @Sendable () -> Date

    public init(notifier: SystemdNotifier, store: any StatusSource, pipeline: PipelineService, logger: Logger, started: StartupSignal,
                clock: @escaping @Sendable () -> Date, statusInterval: Duration = .seconds(5)) {
        self.notifier = notifier
        self.store = store
        self.pipeline = pipeline
        self.logger = logger
        self.started = started
        self.clock = clock
        self.statusInterval = statusInterval
    }

    public func run() async throws {
        guard notifier.isActive else {
            try? await gracefulShutdown()
            return
        }
        guard await started.wait(while: { !Task.isCancelled && !Task.isShuttingDownGracefully }) else { return }
        notifier.notify("READY=1\nSTATUS=serving")
        logger.info("told systemd we are ready", metadata: ["watchdog": "\(notifier.watchdogInterval.map { "\($0)" } ?? "off")"])
        let tick = min(notifier.watchdogInterval ?? statusInterval, statusInterval)
        var sinceStatus = Duration.zero
        var warnedUndelivered = false
        var warnedStuck = false
        let watchdog = notifier.watchdogInterval.map(Watchdog.init(pingInterval:))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                break
            }
            if let watchdog {
                let lastProgress = Date(timeIntervalSince1970: Double(pipeline.heartbeat.load(ordering: .relaxed)))
                if case .stuck(let seconds) = watchdog.verdict(lastProgress: lastProgress, now: Date()) {
                    // Once per streak, with the reason: systemd restarts the daemon soon.
                    if !warnedStuck {
                        logger.error("the pipeline has made no progress; withholding the watchdog ping, so systemd restarts the daemon",
                                     metadata: ["seconds": "\(seconds)", "error": "\(pipeline.lastError.withLock { $0 } ?? "none (the loop is not turning)")"])
                    }
                    warnedStuck = true
                } else if !notifier.notify("WATCHDOG=1") {
                    // Once per streak: systemd is not reading (or the socket is gone).
                    if !warnedUndelivered { logger.warning("systemd did not take the watchdog ping; trying again each tick") }
                    warnedUndelivered = true
                } else {
                    warnedUndelivered = false
                    warnedStuck = false
                }
            }
            sinceStatus += tick
            if sinceStatus >= statusInterval {
                sinceStatus = .zero
                if let status = try? await store.status(now: clock()) {
                    notifier.notify("STATUS=position \(status.checkpoint)/\(status.head), \(status.count(.pending)) pending, "
                                    + "\(status.count(.sent)) sent, \(status.count(.retrying)) retrying, \(status.count(.dead)) dead")
                }
            }
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping")
    }
}
