import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TidingsDelivery
import TidingsStore

/// Checkpoints SQLite's write-ahead log beside the writer, on the other core (`WALCheckpoints`):
/// every 10 ms while the log grows, twice a second while it stands still.
final class CheckpointService: Service {
    let checkpoints: WALCheckpoints
    let logger: Logger
    /// How soon to look again after the log grew, and while it stands still.
    let busyInterval: Duration
    let idleInterval: Duration
    let doorbell = Doorbell()

    init(checkpoints: WALCheckpoints, logger: Logger, busyInterval: Duration = .milliseconds(10), idleInterval: Duration = .milliseconds(500)) {
        self.checkpoints = checkpoints
        self.logger = logger
        self.busyInterval = busyInterval
        self.idleInterval = idleInterval
    }

    /// Runs until the daemon stops: a failure is logged and tried again, since the writer's
    /// own checkpoint goes on meanwhile.
    func run() async throws {
        let stopping = Atomic<Bool>(false)
        var handedOver = false
        await withGracefulShutdownHandler {
            var last = -1
            var failing = false
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                var changed = false
                do {
                    if !handedOver {
                        try await checkpoints.takeOver()
                        handedOver = true
                    }
                    if let (log, _) = try await checkpoints.checkpoint() {
                        // Copied to its end, the log starts afresh at the writer's next commit. What
                        // a reader held back is copied at a later look.
                        changed = log != last && log > 0
                        last = log
                    }
                    if failing { logger.notice("checkpointing the write-ahead log works again") }
                    failing = false
                } catch is CancellationError {
                    break
                } catch {
                    // The writer's own checkpoint is the backstop: nothing is lost meanwhile.
                    if !failing { logger.error("checkpointing the write-ahead log failed; the writer does it meanwhile", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                await doorbell.wait(timeout: changed ? busyInterval : idleInterval)
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
        guard handedOver else { return }
        do {
            try await checkpoints.handBack()
        } catch where !(error is CancellationError) {
            // Cancelled, the daemon is going down with its connections, and the setting with them.
            logger.warning("could not give checkpoints back to the writer's commits", metadata: ["error": "\(error)"])
        } catch {}
    }
}
