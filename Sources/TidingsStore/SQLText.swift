import TidingsCore

/// Core's definitions as SQL text: `('pending', 'retrying')`. Literal rather than bound, so that
/// SQLite can match the partial indexes, whose conditions are written the same way.
protocol SQLListable {
    var sqlName: String { get }
}

extension MessageState: SQLListable {
    var sqlName: String { rawValue }
}

extension Order.Status: SQLListable {
    var sqlName: String { rawValue }
}

extension SQLListable {
    var sqlLiteral: String { "'\(sqlName)'" }
}

extension Array where Element: SQLListable {
    var sqlList: String {
        "(" + map(\.sqlLiteral).joined(separator: ", ") + ")"
    }
}
