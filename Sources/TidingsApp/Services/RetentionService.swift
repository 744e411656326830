import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore
import TidingsDelivery
import TidingsStore

/// `outbox.retention`: once an hour, drops what messages that ended longer ago than that said
/// (their contexts, and the spool's copies), in chunks so the writer is never held for long.
public final class RetentionService: Service {
    let store: any ContentRetention
    let retention: TimeInterval
    let spoolDirectory: String
    let now: @Sendable () -> Date
    let interval: Duration
    let logger: Logger
    let doorbell = Doorbell()

    public init(store: any ContentRetention, retention: TimeInterval, spoolDirectory: String, now: @escaping @Sendable () -> Date,
                interval: Duration = .seconds(3_600), logger: Logger) {
        self.store = store
        self.retention = retention
        self.spoolDirectory = spoolDirectory
        self.now = now
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    try await sweep()
                } catch {
                    // A busy disk delays the sweep; the next one catches up.
                    logger.error("dropping the contents of old messages failed; trying again at the next sweep", metadata: ["error": "\(error)"])
                }
                await doorbell.wait(timeout: interval)
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
    }

    /// Drops the contents of every message that ended before now minus the retention. Returns
    /// how many; tests call it with an injected clock.
    @discardableResult
    public func sweep(chunk: Int = 500) async throws -> Int {
        let now = now()
        let cutoff = now.addingTimeInterval(-retention)
        var erased = 0
        while true {
            let keys = try await store.eraseContents(endedBefore: cutoff, limit: chunk, now: now)
            erased += keys.count
            let spool = SpoolFiles.remove(keys: keys, directory: spoolDirectory)
            for failure in spool.left {
                logger.warning("a spool file past outbox.retention could not be removed; remove it by hand", metadata: ["file": "\(failure)"])
            }
            // A stop ends the sweep between chunks; the next start goes on from there.
            if keys.count < chunk || Task.isShuttingDownGracefully || Task.isCancelled { break }
        }
        if erased > 0 {
            Counter(label: "tidings_message_contents_dropped_total").increment(by: erased)
            logger.info("dropped the contents of messages past outbox.retention", metadata: [
                "messages": "\(erased)", "ended_before": "\(Timestamp.format(cutoff))",
            ])
        }
        return erased
    }
}
