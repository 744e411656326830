import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Written in the transaction of the action's effect: an action is recorded if and only if
    /// it happened.
    static func record(_ db: Database, _ action: OperatorAction) throws {
        try db.execute(sql: "INSERT INTO operator_actions (at, via, actor, kind, target, affected) VALUES (?, ?, ?, ?, ?, ?)", arguments: [
            action.at.timeIntervalSince1970, action.actor.via.rawValue, action.actor.name, action.kind.rawValue, action.target, action.affected,
        ])
    }

    /// Newest first. A row of a kind or door this version does not know is an error, not a guess.
    public func operatorActions(limit: Int) async throws -> [OperatorAction] {
        try await read("reading operator actions") { db in
            try Row.fetchAll(db, sql: "SELECT at, via, actor, kind, target, affected FROM operator_actions ORDER BY id DESC LIMIT ?",
                             arguments: [limit]).map { row in
                guard let action = OperatorAction(at: row[0], via: row[1], actor: row[2], kind: row[3], target: row[4], affected: row[5]) else {
                    throw StoreError(.corruptRow, OperatorAction.unknownRow(via: row[1], kind: row[3]))
                }
                return action
            }
        }
    }
}
