import Foundation

/// One attempt in a message's history.
public struct AttemptSummary: Sendable, Hashable {
    public var attempt: Int
    public var channel: String
    public var at: Date
    /// sent, transient, permanent, gone, or interrupted (the process died before recording it);
    /// or `receipt: <status>` for what a provider reported afterwards.
    public var outcome: String
    public var detail: String?

    public init(attempt: Int, channel: String, at: Date, outcome: String, detail: String?) {
        self.attempt = attempt
        self.channel = channel
        self.at = at
        self.outcome = outcome
        self.detail = detail
    }

    /// The history of one message, oldest first, with the receipts its providers sent after it
    /// (numbered as the attempt they came after). `?1` is the message id; the same text runs
    /// on both backends.
    public static let historySQL = """
        SELECT attempt, channel, at, outcome, detail, 0 AS receipt FROM message_attempts WHERE message_id = ?1
        UNION ALL
        SELECT COALESCE((SELECT MAX(a.attempt) FROM message_attempts a WHERE a.message_id = ?1 AND a.at <= r.at), 0), channel, at,
            'receipt: ' || status || COALESCE(' (' || kind || ')', ''), provider || COALESCE(': ' || detail, ''), 1
        FROM message_receipts r WHERE message_id = ?1
        ORDER BY attempt, receipt, at
        """
}
