import Foundation
import GRDB
import TidingsCore

extension Store {
    /// The simulated time kept in the database (`clock.source: database`), nil until set.
    public func simulatedTime() throws -> Date? {
        try read("reading the simulated time") { db in try Self.simulatedTime(db) }
    }

    static func simulatedTime(_ db: Database) throws -> Date? {
        try Double.fetchOne(db.cachedStatement(sql: "SELECT now FROM clock WHERE id = 1")).map(Date.init(timeIntervalSince1970:))
    }

    /// Moves the simulated time. It only goes forward: time running backwards would fire
    /// nothing and hold messages it already let go.
    public func setSimulatedTime(_ time: Date) throws {
        try write("setting the simulated time") { db in
            if let current = try Double.fetchOne(db, sql: "SELECT now FROM clock WHERE id = 1"), current > time.timeIntervalSince1970 {
                throw StoreError(.invalidRequest, "the simulated time is already \(Timestamp.format(Date(timeIntervalSince1970: current))); it only moves forward")
            }
            try db.execute(sql: "INSERT INTO clock (id, now) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET now = excluded.now",
                           arguments: [time.timeIntervalSince1970])
        }
    }

    /// The running daemon records the simulated time it has taken up (and fired the deadlines
    /// of), so `tidings clock set` can wait for it.
    public func acknowledgeSimulatedTime(_ time: Date) throws {
        try write("acknowledging the simulated time") { db in try Self.acknowledgeSimulatedTime(db, time) }
    }

    static func acknowledgeSimulatedTime(_ db: Database, _ time: Date) throws {
        try db.execute(sql: "UPDATE clock SET applied = ? WHERE id = 1", arguments: [time.timeIntervalSince1970])
    }

    /// The simulated time the running daemon last took up, if any.
    public func appliedSimulatedTime() throws -> Date? {
        try read("reading the applied simulated time") { db in
            try Double.fetchOne(db, sql: "SELECT applied FROM clock WHERE id = 1").map(Date.init(timeIntervalSince1970:))
        }
    }
}
