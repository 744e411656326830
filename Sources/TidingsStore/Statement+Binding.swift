import CSQLiteConfig
import GRDB

/// Hot statements stepped through SQLite's C API, their values bound one by one. GRDB's
/// `StatementArguments` box every value and check them at each execution, and each fetch makes
/// a cursor and copies its rows: in `tidings append` that was over a quarter of the writer's
/// time (BENCHMARKS.md, "Statements bound directly").
///
/// Only for statements Tidings prepared, run on the connection's queue inside a transaction
/// GRDB opened: one that writes refuses to run outside a transaction (SQLite may have ended it
/// after an I/O error, where GRDB's own check would refuse). They never begin or end a
/// transaction, so the hooks GRDB runs at those (`afterNextTransaction`) still run from its own
/// COMMIT or ROLLBACK, and Tidings uses no value observation. A failure throws out of the
/// transaction, which GRDB then rolls back. The statement is reset and its values cleared after
/// each run (no copy of a context or a sealed body stays with it), so whatever runs it next,
/// GRDB or this, binds its own values to a statement at rest.
extension Statement {
    /// Runs the statement to its end with `values` bound to its parameters in order.
    func execute<each Value: StatementBinding>(binding values: repeat each Value) throws {
        try start()
        try bind(repeat each values)
        try forEachRow { _ in }
    }

    /// Runs the statement to its end with `values` bound to its parameters in order, for a
    /// list only known at run time (a model table's columns).
    func execute(bindingAll values: [any StatementBinding]) throws {
        try start()
        let parameters = sqlite3_bind_parameter_count(sqliteStatement)
        var index: CInt = 0
        for value in values { try bind(value, at: &index, of: parameters) }
        try checkBound(index, of: parameters)
        try forEachRow { _ in }
    }

    /// Runs an INSERT with `values` bound; false when a UNIQUE or PRIMARY KEY constraint
    /// refuses the row. SQLite then writes nothing (the statement is undone, an AUTOINCREMENT
    /// sequence is not advanced) and the transaction goes on: one index lookup instead of a
    /// query beforehand and the insert's own lookup.
    func insert<each Value: StatementBinding>(unlessDuplicate values: repeat each Value) throws -> Bool {
        try start()
        try bind(repeat each values)
        defer { sqlite3_reset(sqliteStatement); sqlite3_clear_bindings(sqliteStatement) }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_DONE: return true
        case ResultCode.SQLITE_CONSTRAINT_UNIQUE.rawValue, ResultCode.SQLITE_CONSTRAINT_PRIMARYKEY.rawValue: return false
        case SQLITE_ROW: throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "an insert unless duplicate returns no rows", sql: sql)
        case let code: throw failure(code)
        }
    }

    /// The first row's first column, or nil when there is no row or that column is NULL.
    func fetchFirst<Column: StatementColumnConvertible, each Value: StatementBinding>(
        _: Column.Type, binding values: repeat each Value
    ) throws -> Column? {
        try start()
        try bind(repeat each values)
        defer { sqlite3_reset(sqliteStatement); sqlite3_clear_bindings(sqliteStatement) }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW: return SteppedRow(sqliteStatement).optional(0)
        case SQLITE_DONE: return nil
        case let code: throw failure(code)
        }
    }

    /// Calls `body` with each row of the statement run with `values` bound.
    func forEachRow<each Value: StatementBinding>(binding values: repeat each Value, do body: (SteppedRow) throws -> Void) throws {
        try start()
        try bind(repeat each values)
        try forEachRow(body)
    }

    /// Calls `body` with each row, read in place rather than copied, the statement's named
    /// parameters bound by GRDB from `named` (`:name` takes `named["name"]`; GRDB checks that
    /// none is missing).
    func forEachRow(named: [String: any DatabaseValueConvertible], do body: (SteppedRow) throws -> Void) throws {
        try start()
        try setArguments(StatementArguments(named))
        try forEachRow(body)
    }

    private func forEachRow(_ body: (SteppedRow) throws -> Void) throws {
        defer { sqlite3_reset(sqliteStatement); sqlite3_clear_bindings(sqliteStatement) }
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_ROW: try body(SteppedRow(sqliteStatement))
            case SQLITE_DONE: return
            case let code: throw failure(code)
            }
        }
    }

    /// A statement GRDB left partway through its rows would refuse new values. One that writes
    /// runs only inside a transaction.
    private func start() throws {
        sqlite3_reset(sqliteStatement)
        guard sqlite3_stmt_readonly(sqliteStatement) != 0 || sqlite3_get_autocommit(sqlite3_db_handle(sqliteStatement)) == 0 else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "a statement bound directly writes only inside a transaction", sql: sql)
        }
    }

    private func bind<each Value: StatementBinding>(_ values: repeat each Value) throws {
        let parameters = sqlite3_bind_parameter_count(sqliteStatement)
        var index: CInt = 0
        for value in repeat each values { try bind(value, at: &index, of: parameters) }
        try checkBound(index, of: parameters)
    }

    /// Binds the next value; one more than the statement takes is the caller's mistake
    /// (`SQLITE_MISUSE`, as GRDB says it), not the event's (SQLite's `SQLITE_RANGE`).
    private func bind(_ value: some StatementBinding, at index: inout CInt, of parameters: CInt) throws {
        index += 1
        guard index <= parameters else { throw countMismatch(index, parameters) }
        let code = value.bind(to: sqliteStatement, at: index)
        guard code == SQLITE_OK else { throw failure(code) }
    }

    /// Every parameter must be bound: one left out would run with NULL.
    private func checkBound(_ count: CInt, of parameters: CInt) throws {
        guard count == parameters else { throw countMismatch(count, parameters) }
    }

    private func countMismatch(_ count: CInt, _ parameters: CInt) -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_MISUSE,
                      message: "the statement takes \(parameters) values; it was given \(count < parameters ? "\(count)" : "more")", sql: sql)
    }

    /// The error as GRDB reports a failed statement: SQLite's code and message, and the SQL.
    private func failure(_ code: CInt) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))),
                      sql: sql)
    }
}

/// The row a statement stands on, read by column position. Valid only inside the call that
/// hands it out: the next step replaces it.
struct SteppedRow {
    private let statement: SQLiteStatement

    init(_ statement: SQLiteStatement) {
        self.statement = statement
    }

    /// The column's value, nil when it is NULL or does not convert.
    func optional<Value: StatementColumnConvertible>(_ index: CInt) -> Value? {
        sqlite3_column_type(statement, index) == SQLITE_NULL ? nil : Value(sqliteStatement: statement, index: index)
    }

    /// The column's value; a NULL or a value that does not convert is an error, not a crash.
    func value<Value: StatementColumnConvertible>(_ index: CInt) throws -> Value {
        guard let value: Value = optional(index) else {
            let name = sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "\(index)"
            throw StoreError(.corruptRow, "the column \(name) holds no \(Value.self) (NULL or another type)")
        }
        return value
    }
}
