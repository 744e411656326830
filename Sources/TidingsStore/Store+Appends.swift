import Foundation
import GRDB
import TidingsCore

/// A `tidings append` in progress: its events go into the log in short transactions (so the
/// writer is never held for long), invisible to readers until `finish()` makes them all
/// visible in one step, or gone after `abandon()`. All-or-nothing, as readers see it.
public struct StagedAppend: Sendable {
    public let id: String
    let store: Store
    /// How many events this append added, and how many were in the log already.
    public private(set) var appended = 0
    public private(set) var alreadyStored = 0
    /// Events another append still running has staged: stored only if that one finishes.
    public private(set) var stagedElsewhere = 0

    /// Appends a chunk, in a transaction of its own.
    public mutating func append(_ events: [CloudEvent], now: Date) throws {
        try append(events.map(EncodedEvent.init(unencoded:)), now: now)
    }

    /// Appends a chunk encoded beforehand (off the writer), in a transaction of its own.
    public mutating func append(_ events: [EncodedEvent], now: Date) throws {
        try count(store.write("appending \(events.count) events of append \(id)") { db in
            try Store.append(db, events, now: now, appendID: id)
        })
    }

    /// Writes a chunk, in a transaction of its own, suspended meanwhile: the caller prepares
    /// the next chunk while this one commits. Give the result to `count` in the order written.
    /// The chunk is taken out of `events` on the writer, and freed there: its parsed events
    /// were a twentieth of the preparing's thread, and the writer waits for the next chunk.
    public func write(_ events: Handover<[EncodedEvent]>, now: Date) async throws -> AppendResult {
        try await store.write("appending events of append \(id)") { [id] db in
            // Taken once: a chunk written twice would store nothing the second time, silently.
            guard let chunk = events.take() else {
                throw StoreError(.writeFailed, "a chunk of append \(id) was handed to the writer twice; run the append again")
            }
            return try Store.append(db, chunk, now: now, appendID: id)
        }
    }

    /// Takes in a written chunk's result; throws its refusal (a forgotten customer's event).
    public mutating func count(_ chunk: AppendResult) throws {
        if let refusal = chunk.refusal { throw StoreError(.invalidRequest, refusal) }
        appended += chunk.appended
        alreadyStored += chunk.alreadyStored
        stagedElsewhere += chunk.stagedElsewhere
    }

    /// Appends a chunk of exported events with their own recording times (`tidings import`).
    public mutating func append(_ events: [CloudEvent], recordedAt: [Date], now: Date) throws {
        guard events.count == recordedAt.count else {
            throw StoreError(.invalidRequest, "importing \(events.count) events with \(recordedAt.count) recording times: one each")
        }
        let encoded = events.map(EncodedEvent.init(unencoded:))
        let chunk = try store.write("importing \(events.count) events in append \(id)") { db in
            try Store.append(db, encoded, now: now, appendID: id, recordedAt: recordedAt)
        }
        if let refusal = chunk.refusal { throw StoreError(.invalidRequest, refusal) }
        appended += chunk.appended
        alreadyStored += chunk.alreadyStored
        stagedElsewhere += chunk.stagedElsewhere
    }

    /// Makes every event of the append visible at once.
    public func finish() throws {
        try store.write("finishing append \(id)") { db in
            try db.execute(sql: "DELETE FROM appends WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else {
                throw StoreError(.invalidRequest, "append \(id) was abandoned meanwhile (its process was taken for dead); run it again")
            }
        }
    }

    /// Takes the append's events out of the log again: nobody has seen them.
    public func abandon() throws {
        try store.abandonAppend(id)
    }
}

extension Store {
    /// Starts a staged append. Events appended from now on, by anyone, are invisible until it
    /// finishes: the log's order stays the order readers see.
    /// `id` names it; hold its `AppendLock` before, so nobody takes it for dead.
    public func beginAppend(id: String, now: Date) throws -> StagedAppend {
        try write("starting an append") { db in
            try db.execute(sql: """
                INSERT INTO appends (id, first_position, started_at)
                VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events), ?)
                """, arguments: [id, now.timeIntervalSince1970])
        }
        return StagedAppend(id: id, store: self)
    }

    /// Keeps the writer's page cache small, for `tidings append`, a process of its own: the
    /// index pages it touches come back from the OS's cache for a pread, and 16 MB of cache
    /// was a sixth of the command's memory (bench scenario 1: 95 MB with 4, as fast).
    public func useSmallWriterCache() throws {
        try write("shrinking the page cache") { db in try db.execute(sql: "PRAGMA cache_size = -4000") }
    }

    /// The appends still in progress, oldest first.
    public func appendsInProgress() throws -> [String] {
        try read("listing appends in progress") { db in
            try String.fetchAll(db, sql: "SELECT id FROM appends ORDER BY first_position")
        }
    }

    /// Abandons the appends whose process is gone (`isRunning` says which are not), so their
    /// invisible events no longer hold back everything after them. Returns how many.
    @discardableResult
    public func abandonAppends(where isGone: (String) -> Bool) throws -> Int {
        let gone = try appendsInProgress().filter(isGone)
        for id in gone { try abandonAppend(id) }
        return gone.count
    }

    /// Only while it is still in progress: an append that finished between the listing and
    /// here (its process then gone too) has visible events, which stay.
    func abandonAppend(_ id: String) throws {
        try write("abandoning append \(id)") { db in
            try db.execute(sql: "DELETE FROM appends WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { return }
            try db.execute(sql: "DELETE FROM events WHERE append_id = ?", arguments: [id])
        }
    }
}
