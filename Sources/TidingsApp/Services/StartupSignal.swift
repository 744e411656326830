import Synchronization
import TidingsDelivery

/// Fired once, when the HTTP server listens: `READY=1` waits for it, so systemd never hears
/// "ready" from a daemon whose port was taken.
public final class StartupSignal: Sendable {
    private let fired = Atomic<Bool>(false)
    private let bell = Doorbell()

    public init() {}

    public func fire() {
        fired.store(true, ordering: .releasing)
        bell.ring()
    }

    /// Returns once fired, or when the task is cancelled or the daemon is stopping.
    public func wait(while running: () -> Bool) async -> Bool {
        while !fired.load(ordering: .acquiring) {
            guard running() else { return false }
            await bell.wait(timeout: .milliseconds(250))
        }
        return true
    }
}
