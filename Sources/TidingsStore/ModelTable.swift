import Foundation
import GRDB
import TidingsCore

/// How one kind of model is stored: rows hold the model as JSON plus a few columns to query by.
/// The pipeline and `tidings rebuild` write rows through the same definition.
struct ModelTable<Model: JSONModel & Sendable>: Sendable {
    let name: String
    let columns: [String]
    /// The columns' values for a model, in the order of `columns`.
    let values: @Sendable (Model) -> [DatabaseValue]
    /// The statements, made once: a model is read or written for nearly every event.
    let fetchSQL: String
    let documentUpdateSQL: String

    init(name: String, columns: [String], values: @escaping @Sendable (Model) -> [DatabaseValue]) {
        self.name = name
        self.columns = columns
        self.values = values
        fetchSQL = "SELECT doc FROM \(name) WHERE id = ?"
        documentUpdateSQL = "UPDATE \(name) SET doc = ?, position = ? WHERE id = ?" + columns.map { " AND \($0) IS ?" }.joined()
    }

    /// Inserts a row, or replaces the one with its id, in this table or a copy of it.
    func upsert(into table: String? = nil) -> String {
        let names = (["id", "doc", "position"] + columns).joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: 3 + columns.count).joined(separator: ", ")
        let updates = (["doc", "position"] + columns).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(table ?? name) (\(names)) VALUES (\(placeholders)) ON CONFLICT (id) DO UPDATE SET \(updates)"
    }

    /// The model in the row with `id`, nil when there is none.
    func fetch(_ db: Database, id: String) throws -> Model? {
        let doc = try db.cachedStatement(sql: fetchSQL).fetchFirst(Data.self, binding: id)
        return try doc.map { data in
            do { return try Model(document: data) } catch {
                throw StoreError(.corruptRow, "the \(name) row \(id) does not read (\(error))")
            }
        }
    }

    /// Writes the model's row with `statement`, an `upsert()`.
    func write(_ statement: Statement, _ id: String, _ model: Model, columns: [DatabaseValue], position: Int64) throws {
        try statement.execute(bindingAll: [id, Data(try model.document()), position] + columns)
    }

    /// Rewrites only the document of a row whose columns already hold `columns` (compared as
    /// SQLite compares them, byte for byte); false when there is no such row, and then nothing
    /// was written. SQLite rewrites the index entries of every column an UPDATE sets, changed
    /// or not: an order's event that left its status, region and carrier as they were still
    /// wrote three index pages at random places (BENCHMARKS.md, "Fewer pages a message").
    func writeDocument(_ db: Database, _ statement: Statement, _ id: String, _ model: Model, columns: [DatabaseValue],
                       position: Int64) throws -> Bool {
        try statement.execute(bindingAll: [Data(try model.document()), position, id] + columns)
        return db.changesCount > 0
    }
}

extension ModelTable where Model == Customer {
    static let customers = ModelTable(name: "customers", columns: ["suppressed"], values: { [$0.suppressed.count.databaseValue] })
}

extension ModelTable where Model == Order {
    static let orders = ModelTable(name: "orders", columns: ["customer_id", "status", "region", "carrier"],
                                   values: { [$0.customerID.databaseValue, $0.status.rawValue.databaseValue, ($0.shipping?.region).databaseValue,
                                              $0.carrier.databaseValue] })
}

extension ModelTable where Model == Ticket {
    static let tickets = ModelTable(name: "tickets", columns: ["customer_id", "kind", "status"],
                                    values: { [$0.customerID.databaseValue, $0.kind.databaseValue, $0.status.rawValue.databaseValue] })
}
