import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// The append-only log on PostgreSQL.
///
/// Appends take an `entry` from a sequence, and transactions commit in any order: a reader that
/// followed entries would pass over one whose transaction commits after a later entry's was
/// read. So the log's `position` is not the entry. It is given after commit, by `sequence()`,
/// to committed events only, in transactions that hold one lock: each such transaction numbers
/// on from the highest position so far, and commits before the next may start (an advisory
/// lock is released after its transaction's commit is visible). A reader's snapshot that shows
/// some positions therefore shows every lower one, and an event that commits late gets a higher
/// position, never a lower one. A reader that follows positions (the pipeline, `tidings
/// export`) sees every event exactly once, in one order, whichever instance appended it and
/// however late it committed. An open transaction elsewhere holds nothing back.
public struct PostgresLog: EventLog {
    let backend: PostgresBackend
    /// Tests only: runs inside each append's transaction before it commits, to commit late.
    let beforeCommit: (@Sendable () async throws -> Void)?

    public init(backend: PostgresBackend) {
        self.init(backend: backend, beforeCommit: nil)
    }

    init(backend: PostgresBackend, beforeCommit: (@Sendable () async throws -> Void)?) {
        self.backend = backend
        self.beforeCommit = beforeCommit
    }

    var logger: Logger { backend.logger }

    /// Appends several requests' events in one transaction. An event whose `(source, id)` is
    /// stored already is skipped, also when another transaction stores it at the same moment
    /// (the unique key decides). Positions come later (`sequence()`), so the results list none.
    /// Sealing happens here, in the transaction that reads the customers' keys: nothing is
    /// prepared ahead (`prepare`'s default).
    public func append(batches: [[EncodedEvent]], now: Date) async throws -> [AppendResult] {
        let count = batches.reduce(0) { $0 + $1.count }
        return try await backend.transaction("appending \(count) events") { connection in
            var results: [AppendResult] = []
            for events in batches {
                results.append(try await append(events.map(\.event), now: now, on: connection))
            }
            if let beforeCommit { try await beforeCommit() }
            return results
        }
    }

    /// Appends a file's events in ONE transaction, all of them or none (`tidings append`):
    /// `next` gives them a chunk at a time, nil at the end, and throws to take everything back
    /// (a problem found anywhere in the file). Memory stays bounded by the chunk.
    public func appendAll(now: Date, _ next: () throws -> [CloudEvent]?) async throws -> AppendResult {
        try await backend.transaction("appending events") { connection in
            var total = AppendResult(positions: [], alreadyStored: 0)
            while let chunk = try next() {
                let result = try await append(chunk, now: now, on: connection)
                if let refusal = result.refusal { throw PostgresBackendError(.writeFailed, refusal) }
                total.positionsLater += result.positionsLater
                total.alreadyStored += result.alreadyStored
            }
            return total
        }
    }

    func append(_ events: [CloudEvent], now: Date, recordedAt: [Date]? = nil, on connection: PostgresConnection) async throws -> AppendResult {
        guard !events.isEmpty else { return AppendResult(positions: [], alreadyStored: 0) }
        if events.contains(where: { PersonalData.owner(of: $0) != nil }) {
            try await connection.run("SELECT pg_advisory_xact_lock_shared(\(AdvisoryLock.erasure.rawValue))", logger: logger)
        }
        if let refusal = try await refusal(events, on: connection) {
            var refused = AppendResult(positions: [], alreadyStored: 0)
            refused.refusal = refusal
            return refused
        }
        let keys = try await customerKeys(for: events, now: now, on: connection)
        var sources: [String] = [], ids: [String] = [], types: [String] = [], subjects: [String] = [], hasSubject: [Bool] = []
        var bodies: [ByteBuffer] = [], sealedFor: [String] = []
        let recorded = recordedAt?.map(\.timeIntervalSince1970) ?? Array(repeating: now.timeIntervalSince1970, count: events.count)
        var nonces = Sealing.Nonces()
        for event in events {
            sources.append(event.source)
            ids.append(event.id)
            types.append(event.type)
            subjects.append(event.subject ?? "")
            hasSubject.append(event.subject != nil)
            let raw: JSONValue
            if let owner = PersonalData.owner(of: event), let key = keys[owner] {
                raw = try Sealing.seal(event.raw, type: event.type, customerID: owner, key: key, nonces: &nonces)
                sealedFor.append(owner)
            } else {
                raw = event.raw
                sealedFor.append("")
            }
            bodies.append(ByteBuffer(bytes: try raw.encoded()))
        }
        // One statement for the request: arrays cannot hold NULLs here, so empty strings stand
        // for them (an owner is never empty; a subject may be, hence its own flags).
        let inserted = try await connection.run("""
            INSERT INTO events (source, id, type, subject, recorded_at, body, sealed_for)
            SELECT s, i, t, CASE WHEN hs THEN sub END, r, b, NULLIF(sf, '')
            FROM unnest(\(sources)::text[], \(ids)::text[], \(types)::text[], \(subjects)::text[], \(hasSubject)::bool[],
                        \(recorded)::float8[], \(bodies)::bytea[], \(sealedFor)::text[]) AS e(s, i, t, sub, hs, r, b, sf)
            ON CONFLICT (source, id) DO NOTHING
            RETURNING entry
            """, logger: logger)
        var appended = 0
        for try await _ in inserted.decode(Int64.self) { appended += 1 }
        var result = AppendResult(positions: [], alreadyStored: events.count - appended)
        result.positionsLater = appended
        return result
    }

    /// Why the request is refused, when one of its events (not stored already) is about a
    /// forgotten customer, order or ticket.
    func refusal(_ events: [CloudEvent], on connection: PostgresConnection) async throws -> String? {
        let entities = events.map(PersonalData.entities(of:))
        let forgotten = try await forgotten(among: Array(Set(entities.joined())), on: connection)
        guard !forgotten.isEmpty else { return nil }
        for (event, about) in zip(events, entities) {
            guard let entity = about.first(where: { forgotten[$0] != nil }), let customer = forgotten[entity] else { continue }
            let stored = try await connection.run("SELECT 1 FROM events WHERE source = \(event.source) AND id = \(event.id)", logger: logger)
            var isStored = false
            for try await _ in stored.decode(Int32.self) { isStored = true }
            if !isStored { return PersonalData.refusal(eventID: event.id, entity: entity, customerID: customer) }
        }
        return nil
    }

    /// Which of these entities (`order:o-1`) belonged to a forgotten customer, and whose they were.
    func forgotten(among entities: [String], on connection: PostgresConnection) async throws -> [String: String] {
        guard !entities.isEmpty else { return [:] }
        var forgotten: [String: String] = [:]
        let rows = try await connection.run("SELECT entity, customer_id FROM forgotten WHERE entity = ANY(\(entities)::text[])", logger: logger)
        for try await (entity, customer) in rows.decode((String, String).self) { forgotten[entity] = customer }
        return forgotten
    }

    /// The sealing key of every customer whose personal data the events carry, made for those
    /// who have none. Two transactions making one customer's first key agree on the one that
    /// commits first.
    func customerKeys(for events: [CloudEvent], now: Date, on connection: PostgresConnection) async throws -> [String: Data] {
        let owners = Array(Set(events.compactMap(PersonalData.owner(of:))))
        guard !owners.isEmpty else { return [:] }
        var keys = try await storedKeys(owners, on: connection)
        let missing = owners.filter { keys[$0] == nil }
        guard !missing.isEmpty else { return keys }
        let fresh = missing.map { _ in ByteBuffer(bytes: Sealing.newKey()) }
        try await connection.run("""
            INSERT INTO customer_keys (customer_id, key, created_at)
            SELECT c, k, \(now.timeIntervalSince1970) FROM unnest(\(missing)::text[], \(fresh)::bytea[]) AS n(c, k)
            ON CONFLICT (customer_id) DO NOTHING
            """, logger: logger)
        keys.merge(try await storedKeys(missing, on: connection)) { $1 }
        return keys
    }

    private func storedKeys(_ owners: [String], on connection: PostgresConnection) async throws -> [String: Data] {
        var keys: [String: Data] = [:]
        let rows = try await connection.run("SELECT customer_id, key FROM customer_keys WHERE customer_id = ANY(\(owners)::text[])",
                                              logger: logger)
        for try await (customer, key) in rows.decode((String, Data).self) { keys[customer] = key }
        return keys
    }
}
