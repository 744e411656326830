import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Appends validated events in one durable transaction. An event whose `(source, id)` is
    /// already in the log is skipped, so re-sending is harmless.
    public func append(_ events: [CloudEvent], now: Date) throws -> AppendResult {
        try append(batches: [events], now: now).first ?? AppendResult(positions: [], alreadyStored: 0)
    }

    /// Appends several requests' events in ONE transaction: concurrent requests share one
    /// fsync (group commit). Each batch gets its own result.
    public func append(batches: [[CloudEvent]], now: Date) throws -> [AppendResult] {
        try write("appending \(batches.reduce(0) { $0 + $1.count }) events") { db in
            try batches.map { try Self.append(db, $0, now: now) }
        }
    }

    static func append(_ db: Database, _ events: [CloudEvent], now: Date) throws -> AppendResult {
        try append(db, events.map(EncodedEvent.init(unencoded:)), now: now)
    }

    /// A group commit's requests, sealed ahead with `keys` (`prepare`): the ring is emptied
    /// first if a forget moved the generation, and learns each key it had wrong.
    static func append(_ db: Database, _ batches: [[EncodedEvent]], now: Date, keys ring: SealingKeys) throws -> [AppendResult] {
        ring.observe(generation: try checkpoint(db, readModelsGeneration))
        return try batches.map { try append(db, $0, now: now, ring: ring) }
    }

    /// `appendID` marks the events of a staged `tidings append`, invisible until it finishes.
    /// `recordedAt`, when given, is each event's own time (`tidings import`), else `now`.
    static func append(_ db: Database, _ events: [EncodedEvent], now: Date, appendID: String? = nil, recordedAt: [Date]? = nil,
                       ring: SealingKeys? = nil) throws -> AppendResult
    {
        // A duplicate is found by the insert failing on the unique (source, id), which undoes
        // it whole, position included. Not ON CONFLICT DO NOTHING: that still uses up a position,
        // leaving gaps in the log. Nor a lookup first: that searched the index twice per event.
        if let refusal = try refusal(db, events.lazy.map(\.event)) {
            var refused = AppendResult(positions: [], alreadyStored: 0)
            refused.refusal = refusal
            return refused
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (source, id, type, subject, recorded_at, body, append_id, sealed_for) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var result = AppendResult(positions: [], alreadyStored: 0)
        result.positions.reserveCapacity(events.count)
        let now = now.timeIntervalSince1970
        var keys = CustomerKeys(ring: ring)
        for (index, encoded) in events.enumerated() {
            let event = encoded.event
            let recorded = recordedAt.map { $0[index].timeIntervalSince1970 } ?? now
            // Bound directly (`execute(binding:)`): this loop is most of an append's writer.
            // A duplicate is sealed for nothing (duplicates are rare), and a key made for it alone
            // is taken back.
            let sealed = try sealedBody(db, encoded, keys: &keys, now: recorded)
            let inserted = try insert.insert(unlessDuplicate: event.source, event.id, event.type, event.subject, recorded, sealed.body,
                                             appendID, sealed.sealedFor)
            if let owner = sealed.sealedFor {
                if inserted { keys.used(by: owner) } else { try keys.notUsed(db, by: owner) }
            }
            if inserted {
                result.positions.append(db.lastInsertedRowID)
            } else if try isStagedElsewhere(db, event, appendID: appendID) {
                result.stagedElsewhere += 1
            } else {
                result.alreadyStored += 1
            }
        }
        return result
    }

    /// Whether the stored copy of `event` belongs to another append still in progress (a
    /// finished one leaves its id on its events): not stored for good until that append
    /// finishes. Asked only for duplicates, which are rare.
    static func isStagedElsewhere(_ db: Database, _ event: CloudEvent, appendID: String?) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM events WHERE source = ? AND id = ? AND append_id IS NOT ?
                AND append_id IN (SELECT id FROM appends))
            """), arguments: [event.source, event.id, appendID]) ?? false
    }

    /// The position of the newest event readers may see, 0 for an empty log: below the first
    /// event of a `tidings append` still running, whose events become visible all at once.
    public func head() throws -> Int64 {
        try read("reading the log head") { db in try Self.head(db) }
    }

    /// The log as readers see it ends before the first event of the oldest append in progress.
    static let visibleBelow = "COALESCE((SELECT MIN(first_position) FROM appends), 9223372036854775807)"

    static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT MAX(position) FROM events WHERE position < \(visibleBelow)
            """)) ?? 0
    }

    /// Events after a position, oldest first.
    public func events(after position: Int64, limit: Int) throws -> [StoredEvent] {
        try read("reading events") { db in try Self.events(db, after: position, limit: limit) }
    }

    /// Events after a position, oldest first, each decoded on its own: an unreadable one is a
    /// failure in its place, and its neighbours are read (`tidings export` stops at it).
    public func storedEvents(after position: Int64, limit: Int) throws -> [Result<StoredEvent, StoreError>] {
        try read("reading events") { db in
            try Self.loggedEvents(db, after: position, limit: limit).map { logged in Result { try logged.decoded() }.mapError { $0 as? StoreError ?? logged.unreadable } }
        }
    }

    static func events(_ db: Database, after position: Int64, limit: Int) throws -> [StoredEvent] {
        try loggedEvents(db, after: position, limit: limit).map { try $0.decoded() }
    }

    /// Events as stored, each decoded on its own: one unreadable event must not make its
    /// neighbours unreadable too (the pipeline quarantines it and goes on).
    /// `skipping`: the first events after `position` are passed over (a read ahead of the batch
    /// that starts there).
    static func loggedEvents(_ db: Database, after position: Int64, skipping: Int = 0, limit: Int) throws -> [LoggedEvent] {
        // Only below a running append's first event: all of it becomes visible at once, and
        // nothing committed after it is read before it.
        // With the key of the customer whose fields are sealed in it: none once forgotten.
        let statement = try db.cachedStatement(sql: """
            SELECT e.position, e.recorded_at, e.body, e.sealed_for, k.key FROM events e
            LEFT JOIN customer_keys k ON k.customer_id = e.sealed_for
            WHERE e.position > ? AND e.position < \(visibleBelow)
            ORDER BY e.position LIMIT ? OFFSET ?
            """)
        let rows = try Row.fetchCursor(statement, arguments: [position, limit, skipping])
        var events: [LoggedEvent] = []
        while let row = try rows.next() {
            events.append(LoggedEvent(position: row[0], recordedAt: row[1], body: row[2], sealedFor: row[3], key: row[4]))
        }
        return events
    }
}

/// An event's row in the log, not yet decoded.
struct LoggedEvent: Sendable, Equatable {
    var position: Int64
    var recordedAt: Double
    var body: Data
    /// The customer whose key seals the personal fields, and the key (nil once forgotten).
    var sealedFor: String?
    var key: Data?

    func decoded() throws -> StoredEvent {
        guard let event = StoredEvent(position: position, recordedAt: Date(timeIntervalSince1970: recordedAt), body: body,
                                      sealedFor: sealedFor, key: key)
        else { throw unreadable }
        return event
    }

    var unreadable: StoreError {
        StoreError(.unreadableEvent, "the event at position \(position) is not a readable CloudEvent (its stored body is not a JSON event object)")
    }
}
