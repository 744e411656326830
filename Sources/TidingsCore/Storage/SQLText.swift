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
}
