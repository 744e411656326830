import Foundation
import GRDB
import TidingsCore

/// How one kind of model is stored: rows hold the model as JSON plus a few columns to query by.
/// The pipeline and `tidings rebuild` write rows through the same definition.
struct ModelTable<Model: JSONModel & Sendable>: Sendable {
    let name: String
    let columns: [String]
    let values: @Sendable (Model) -> [any StatementBinding]

    /// Inserts a row, or replaces the one with its id, in this table or a copy of it.
    func upsert(into table: String? = nil) -> String {
        let names = (["id", "doc", "position"] + columns).joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: 3 + columns.count).joined(separator: ", ")
        let updates = (["doc", "position"] + columns).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(table ?? name) (\(names)) VALUES (\(placeholders)) ON CONFLICT (id) DO UPDATE SET \(updates)"
    }

    /// The model in the row with `id`, nil when there is none.
    func fetch(_ db: Database, id: String) throws -> Model? {
        let doc = try db.cachedStatement(sql: "SELECT doc FROM \(name) WHERE id = ?").fetchFirst(Data.self, binding: id)
        return try doc.map { data in
            do { return try Model(document: data) } catch {
                throw StoreError(.corruptRow, "the \(name) row \(id) does not read (\(error))")
            }
        }
    }

    /// Writes the model's row with `statement`, an `upsert()`.
    func write(_ statement: Statement, _ id: String, _ model: Model, position: Int64) throws {
        try statement.execute(bindingAll: [id, Data(try model.document()), position] + values(model))
    }
}

extension ModelTable where Model == Customer {
    static let customers = ModelTable(name: "customers", columns: ["suppressed"], values: { [$0.suppressed.count] })
}

extension ModelTable where Model == Order {
    static let orders = ModelTable(name: "orders", columns: ["customer_id", "status", "region", "carrier"],
                                   values: { [$0.customerID, $0.status.rawValue, $0.shipping?.region, $0.carrier] })
}

extension ModelTable where Model == Ticket {
    static let tickets = ModelTable(name: "tickets", columns: ["customer_id", "kind", "status"],
                                    values: { [$0.customerID, $0.kind, $0.status.rawValue] })
}
