import Foundation
import GRDB

/// Where a running `tidings rebuild` stands, as the daemon's `/metrics` shows it: the rebuild
/// is another process, so it leaves its progress in `checkpoints` every few seconds.
public struct RebuildStanding: Sendable, Hashable {
    public var events: Int64
    public var position: Int64
    public var target: Int64
    /// When it was last written: a rebuild that died leaves rows that stop moving.
    public var updatedAt: Date
}

extension Store {
    static let rebuildRows = (events: "rebuild-events", position: "rebuild-position", target: "rebuild-target", updated: "rebuild-updated")

    /// Writes where the rebuild stands. Best effort: a busy database delays the figure, never the rebuild.
    func recordRebuildStanding(_ progress: RebuildProgress, at time: Date) {
        _ = try? write("recording the rebuild's progress") { db in
            try Self.setCheckpoint(db, Self.rebuildRows.events, Int64(progress.events))
            try Self.setCheckpoint(db, Self.rebuildRows.position, progress.position)
            try Self.setCheckpoint(db, Self.rebuildRows.target, progress.target)
            try Self.setCheckpoint(db, Self.rebuildRows.updated, Int64(time.timeIntervalSince1970))
        }
    }

    func clearRebuildStanding() {
        _ = try? write("clearing the rebuild's progress") { db in
            try db.execute(sql: "DELETE FROM checkpoints WHERE name IN (?, ?, ?, ?)", arguments: [
                Self.rebuildRows.events, Self.rebuildRows.position, Self.rebuildRows.target, Self.rebuildRows.updated,
            ])
        }
    }

    /// Where a rebuild stands, if one left its progress.
    public func rebuildStanding() throws -> RebuildStanding? {
        try read("reading the rebuild's progress") { db in
            let rows = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, position FROM checkpoints WHERE name LIKE 'rebuild-%'")
                .map { ($0["name"] as String, $0["position"] as Int64) })
            guard let events = rows[Self.rebuildRows.events], let position = rows[Self.rebuildRows.position],
                  let target = rows[Self.rebuildRows.target], let updated = rows[Self.rebuildRows.updated]
            else { return nil }
            return RebuildStanding(events: events, position: position, target: target, updatedAt: Date(timeIntervalSince1970: Double(updated)))
        }
    }
}
