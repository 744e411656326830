import Foundation

/// What "alive" means for systemd's watchdog: the pipeline made progress (a turn that applied
/// events or found nothing to do) within `staleAfter`. A loop that keeps failing, the same batch
/// over and over, is not alive, even though it runs. Pure: the caller brings the times.
public struct Watchdog: Sendable, Hashable {
    /// How long without progress counts as stuck: half of `WATCHDOG_USEC` (the ping interval),
    /// at least 2 s, so that systemd restarts a stuck daemon within about one and a half
    /// `WatchdogSec`, and a pipeline between two polls is never taken for stuck.
    public let staleAfter: TimeInterval

    public init(pingInterval: Duration) {
        staleAfter = max(2, pingInterval.seconds)
    }

    public enum Verdict: Sendable, Hashable {
        case ping
        /// Withhold the ping: the pipeline has made no progress for this long.
        case stuck(seconds: Int)
    }

    public func verdict(lastProgress: Date, now: Date) -> Verdict {
        let silent = now.timeIntervalSince(lastProgress)
        return silent > staleAfter ? .stuck(seconds: Int(silent)) : .ping
    }
}
