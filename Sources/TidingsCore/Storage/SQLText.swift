/// Core's definitions as SQL text: `('pending', 'retrying')`. Literal rather than bound, so that
/// the database can match the partial indexes, whose conditions are written the same way. Both
/// backends build their SQL from these, so neither restates a rule.
public protocol SQLListable {
    var sqlName: String { get }
}

extension MessageState: SQLListable {
    public var sqlName: String { rawValue }
}

extension Order.Status: SQLListable {
    public var sqlName: String { rawValue }
}

extension SQLListable {
    public var sqlLiteral: String { "'\(sqlName)'" }
}

extension Array where Element: SQLListable {
    public var sqlList: String {
        "(" + map(\.sqlLiteral).joined(separator: ", ") + ")"
    }

    /// The test `column IN sqlList`, written as comparisons joined by OR. SQLite builds a
    /// temporary b-tree for an IN list of three or more values every time it evaluates one: in
    /// a partial index's condition, that is on every insert and update of the table (about 2.3
    /// µs a row, BENCHMARKS.md). A query finds such an index only through the same text.
    public func sqlAnyOf(_ column: String) -> String {
        isEmpty ? "(0)" : "(" + map { "\(column) = \($0.sqlLiteral)" }.joined(separator: " OR ") + ")"
    }
}

/// Outbox SQL both backends share.
public enum OutboxClaimText {
    /// What a claim records as the state it took a message from, for a release to restore: a
    /// claim taken over from a dead run keeps the state that run took it from (its own is
    /// `sending`, which no claim would ever find again).
    public static let claimedFrom = """
        CASE WHEN state = \(MessageState.sending.sqlLiteral) THEN COALESCE(claimed_from, \(MessageState.retrying.sqlLiteral)) ELSE state END
        """
}
