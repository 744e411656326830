import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Disabled endpoints, by channel, among the ones the configuration uses now. A disabled URL
    /// that the configuration no longer uses does not matter: the operator has moved on.
    static func disabledEndpoints(_ db: Database, among endpoints: [Channel: String]) throws -> [Channel: DisabledEndpoint] {
        guard !endpoints.isEmpty else { return [:] }
        let statement = try db.cachedStatement(sql: "SELECT channel, target, disabled_at, reason FROM endpoints")
        var disabled: [Channel: DisabledEndpoint] = [:]
        for endpoint in try Row.fetchAll(statement).compactMap(Self.endpoint) where endpoints[endpoint.channel] == endpoint.target {
            disabled[endpoint.channel] = endpoint
        }
        return disabled
    }

    static func disableEndpoint(_ db: Database, channel: Channel, target: String, reason: String, now: Date) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO endpoints (channel, target, disabled_at, reason) VALUES (?, ?, ?, ?)",
                       arguments: [channel.rawValue, target, now.timeIntervalSince1970, reason])
    }

    /// Every disabled endpoint, for `tidings endpoints`.
    public func disabledEndpoints() throws -> [DisabledEndpoint] {
        try read("listing disabled endpoints") { db in
            try Row.fetchAll(db, sql: "SELECT channel, target, disabled_at, reason FROM endpoints ORDER BY channel, target")
                .compactMap(Self.endpoint)
        }
    }

    /// Enables a channel's endpoints again; returns how many were disabled.
    @discardableResult
    public func enableEndpoints(channel: Channel, now: Date, by actor: OperatorAction.Actor) throws -> Int {
        try write("enabling the \(channel.rawValue) endpoint") { db in
            try db.execute(sql: "DELETE FROM endpoints WHERE channel = ?", arguments: [channel.rawValue])
            let count = db.changesCount
            try Self.record(db, OperatorAction(at: now, actor: actor, kind: .enableEndpoints, target: channel.rawValue, affected: count))
            return count
        }
    }

    private static func endpoint(_ row: Row) -> DisabledEndpoint? {
        guard let channel = Channel(rawValue: row["channel"]) else { return nil }
        return DisabledEndpoint(channel: channel, target: row["target"], since: Date(timeIntervalSince1970: row["disabled_at"]),
                                reason: row["reason"])
    }
}
