import Foundation

/// How long what a message said is kept once it is done: `outbox.retention` drops the context
/// (what its template rendered from) and the spool's copy of messages that ended that long ago.
/// Their states, times, keys and recipients stay, so the history still says what went where.
public enum Retention {
    /// Messages that will never be rendered again. A dead one can still be retried, so it keeps
    /// its context until it is sent or given up on for good.
    public static let endedStates: [MessageState] = [.sent, .delivered, .bounced, .suppressed, .skipped]
    /// The shortest retention that can be set: a message may be retried or looked at for a while.
    public static let minimum: Double = 3_600
}

/// Where `outbox.retention` drops what ended messages said: both backends.
public protocol ContentRetention: Sendable {
    /// Drops the context of up to `limit` messages that ended (`Retention.endedStates`) before
    /// `cutoff` and still have one. Returns their keys, so the spool's copies can go too.
    func eraseContents(endedBefore cutoff: Date, limit: Int, now: Date) async throws -> [String]
}
