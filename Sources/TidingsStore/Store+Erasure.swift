import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Erases a customer: deletes their key (what the log holds of them can never be read
    /// again), records `customer.forgotten`, purges their models, timers, contexts and
    /// addresses, and refuses their new events from now on. One transaction.
    public func forget(customerID: String, eventID: String, now: Date) throws -> ForgetSummary {
        try write("forgetting customer \(customerID)") { db in
            if let at = try Double.fetchOne(db, sql: "SELECT forgotten_at FROM forgotten WHERE entity = ?", arguments: ["customer:\(customerID)"]) {
                throw StoreError(.invalidRequest, """
                    customer \(customerID) was forgotten already, at \(Timestamp.format(Date(timeIntervalSince1970: at))): nothing of theirs is left to erase
                    """)
            }
            guard try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM customer_keys WHERE customer_id = ?1) OR EXISTS (SELECT 1 FROM customers WHERE id = ?1)
                    OR EXISTS (SELECT 1 FROM orders WHERE customer_id = ?1) OR EXISTS (SELECT 1 FROM tickets WHERE customer_id = ?1)
                    OR EXISTS (SELECT 1 FROM messages WHERE customer_id = ?1)
                """, arguments: [customerID]) == true
            else {
                throw StoreError(.invalidRequest, """
                    there is no customer \(customerID): no event, model or message names them. Check the id \
                    (`tidings deliveries list --customer ID` shows what was sent to one)
                    """)
            }
            let appended = try Self.append(db, [PersonalData.forgotten(customerID: customerID, id: eventID, at: now)], now: now)
            guard let position = appended.positions.first else {
                throw StoreError(.keyConflict, "an event with the id \(eventID) is in the log already; run tidings forget again")
            }
            try db.execute(sql: "DELETE FROM customer_keys WHERE customer_id = ?", arguments: [customerID])
            var summary = try Self.purge(db, customerID: customerID, now: now)
            summary.position = position
            // A running daemon drops the models it cached: the forgotten ones among them.
            try Self.setCheckpoint(db, Self.readModelsGeneration, try Self.checkpoint(db, Self.readModelsGeneration) + 1)
            return summary
        }
    }

    /// A message that was in flight when its customer was forgotten comes back from the
    /// dispatcher with the address and the server's answer (a record writes them): erased
    /// again, and skipped if it would be tried again, since nothing is left to send. Costs
    /// one lookup per batch while nobody was ever forgotten.
    /// Returns the ids it erased.
    static func eraseReturned(_ db: Database, ids: [Int64]) throws -> Set<Int64> {
        guard !ids.isEmpty, try anyForgotten(db) else { return [] }
        let message = try db.cachedStatement(sql: """
            UPDATE messages SET
                state = CASE WHEN state IN \(PersonalData.retriedStates.sqlList) THEN '\(MessageState.skipped.rawValue)' ELSE state END,
                last_error = CASE WHEN state IN \(PersonalData.retriedStates.sqlList) THEN ?2 WHEN last_error IS NULL THEN NULL ELSE '(erased)' END,
                recipient = CASE WHEN recipient IS NULL THEN NULL ELSE ?3 END, fallback = '[]'
            WHERE id = ?1 AND erased_at IS NOT NULL
            """)
        let attempts = try db.cachedStatement(sql: "UPDATE message_attempts SET detail = NULL WHERE message_id = ?")
        var erased: Set<Int64> = []
        for id in ids {
            try message.execute(arguments: [id, PersonalData.unsentReason, PersonalData.erasedRecipient])
            guard db.changesCount > 0 else { continue }
            erased.insert(id)
            try attempts.execute(arguments: [id])
        }
        return erased
    }

    /// The claims of `owner` a forget withdrew (`claimed_from = 'withdrawn'`, set by the purge):
    /// handed to the dispatcher once, which drops them unsent.
    static func withdrawn(_ db: Database, owner: String) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db.cachedStatement(sql: """
            UPDATE messages SET claimed_from = NULL WHERE claimed_from = '\(withdrawnMark)' AND claimed_by = ? RETURNING id
            """), arguments: [owner]))
    }

    static var withdrawnMark: String { PersonalData.withdrawnMark }

    /// Whether deleted rows in this file were always overwritten: a database made with
    /// `secure_delete` on from the start is marked at creation, an older one once
    /// `wipeFreeSpace()` has run.
    public func freeSpaceIsClean() throws -> Bool {
        try read("reading whether free space was wiped") { db in try Self.checkpoint(db, Self.freePagesZeroed) > 0 }
    }

    /// Rewrites the whole file (VACUUM), so that what was deleted before `secure_delete` was on
    /// (in free pages, and in the slack of pages still in use) goes. It holds the writer for as
    /// long as that takes: run it with the daemon stopped.
    public func wipeFreeSpace() throws {
        do {
            try pool.barrierWriteWithoutTransaction { db in try db.execute(sql: "VACUUM") }
        } catch {
            throw Self.failure(error, .writeFailed, "rewriting the database file (VACUUM)")
        }
        try write("marking the free space wiped") { db in try Self.setCheckpoint(db, Self.freePagesZeroed, 1) }
    }

    static let freePagesZeroed = "free-pages-zeroed"

    /// The customers forgotten so far.
    public func forgottenCustomers() throws -> Set<String> {
        try read("reading the forgotten customers") { db in
            Set(try String.fetchAll(db, sql: "SELECT customer_id FROM forgotten WHERE entity LIKE 'customer:%'"))
        }
    }

    /// Writes the write-ahead log back into the database and empties it: it still holds the
    /// pages as they were before a forget. False when readers kept it from finishing (the
    /// daemon's next checkpoint overwrites them). Tried for up to a second: a running daemon
    /// checkpoints beside its writer (`WALCheckpoints`), and SQLite refuses a second
    /// checkpoint at once rather than waiting for the first.
    public func truncateLog(tries: Int = 100) throws -> Bool {
        do {
            return try pool.barrierWriteWithoutTransaction { db in
                for attempt in 1...max(1, tries) {
                    if try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] as Int? == 0 { return true }
                    if attempt < tries { usleep(10_000) }
                }
                return false
            }
        } catch {
            throw Self.failure(error, .writeFailed, "emptying the write-ahead log")
        }
    }

    /// Takes a forgotten customer out of the models, timers and outbox, and marks them and
    /// their orders and tickets forgotten. Done by `forget` and again when the pipeline meets
    /// the event (what it applied meanwhile goes too); `Replay.forget` is the same rule in memory.
    static func purge(_ db: Database, customerID: String, now: Date) throws -> ForgetSummary {
        let at = now.timeIntervalSince1970
        let orders = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM orders WHERE customer_id = ?"), arguments: [customerID])
        let tickets = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM tickets WHERE customer_id = ?"), arguments: [customerID])
        let mark = try db.cachedStatement(sql: "INSERT OR IGNORE INTO forgotten (entity, customer_id, forgotten_at) VALUES (?, ?, ?)")
        try mark.execute(arguments: ["customer:\(customerID)", customerID, at])
        for id in orders { try mark.execute(arguments: ["order:\(id)", customerID, at]) }
        for id in tickets { try mark.execute(arguments: ["ticket:\(id)", customerID, at]) }
        // Each deadline of each of their orders and tickets, by primary key: a condition on the
        // type's prefix made SQLite scan every timer (15-19 ms with 40,000, in the pipeline's
        // transaction when it applies a forget).
        let timer = try db.cachedStatement(sql: "DELETE FROM timers WHERE type = ? AND subject = ?")
        for (ids, prefix) in [(orders, "order."), (tickets, "ticket.")] {
            for type in Deadlines.types.sorted() where type.hasPrefix(prefix) {
                for id in ids { try timer.execute(arguments: [type, id]) }
            }
        }
        // One statement at a time: GRDB hands each statement of a multi-statement string its own
        // arguments, so `?1` could not be shared.
        for statement in [
            "DELETE FROM fanout WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
            "DELETE FROM orders WHERE customer_id = ?1",
            "DELETE FROM tickets WHERE customer_id = ?1",
            "DELETE FROM customers WHERE id = ?1",
            // Events waiting for the customer's orders or tickets wait for what will never come.
            "DELETE FROM held_events WHERE waiting_for IN (SELECT entity FROM forgotten WHERE customer_id = ?1)",
        ] {
            try db.execute(sql: statement, arguments: [customerID])
        }
        try db.execute(sql: """
            UPDATE messages SET state = '\(MessageState.skipped.rawValue)', last_error = ?2, updated_at = ?3, lease_until = NULL,
                claimed_from = CASE WHEN state = '\(MessageState.sending.rawValue)' THEN '\(withdrawnMark)' ELSE claimed_from END
            WHERE customer_id = ?1 AND state IN \(PersonalData.unsentStates.sqlList)
            """, arguments: [customerID, PersonalData.unsentReason, at])
        let unsent = db.changesCount
        let keys = try String.fetchAll(db.cachedStatement(sql: "SELECT key FROM messages WHERE customer_id = ? ORDER BY id"), arguments: [customerID])
        // The history stays (states, times, attempts); what it said and to whom does not (the
        // fallback routes carry addresses too).
        try db.execute(sql: """
            UPDATE message_contexts SET context = \(Store.erasedContext) WHERE message_id IN (SELECT id FROM messages WHERE customer_id = ?)
            """, arguments: [customerID])
        try db.execute(sql: """
            UPDATE messages SET recipient = CASE WHEN recipient IS NULL THEN NULL ELSE ?2 END, fallback = '[]',
                erased_at = COALESCE(erased_at, ?4),
                last_error = CASE WHEN last_error IS NULL OR last_error = ?3 THEN last_error ELSE '(erased)' END
            WHERE customer_id = ?1
            """, arguments: [customerID, PersonalData.erasedRecipient, PersonalData.unsentReason, at])
        try db.execute(sql: "UPDATE message_attempts SET detail = NULL WHERE message_id IN (SELECT id FROM messages WHERE customer_id = ?)",
                       arguments: [customerID])
        try db.execute(sql: "UPDATE message_receipts SET detail = NULL WHERE message_id IN (SELECT id FROM messages WHERE customer_id = ?)",
                       arguments: [customerID])
        return ForgetSummary(position: 0, orders: orders.count, tickets: tickets.count, messages: keys.count, unsent: unsent, keys: keys,
                             orderIDs: orders, ticketIDs: tickets)
    }

    /// Why a request's events are refused: one is about a forgotten customer, or an order or
    /// ticket of theirs. Nil when none is (and at once when nobody was ever forgotten). An
    /// event stored before the forget is not refused when it comes again: it is already stored,
    /// and an at-least-once producer must not see its whole batch refused for it.
    static func refusal(_ db: Database, _ events: some Collection<CloudEvent>) throws -> String? {
        guard !events.isEmpty, try anyForgotten(db) else { return nil }
        let stored = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM events WHERE source = ? AND id = ?)")
        for event in events {
            guard let (entity, customer) = try forgotten(db, event),
                  try Bool.fetchOne(stored, arguments: [event.source, event.id]) != true
            else { continue }
            return PersonalData.refusal(eventID: event.id, entity: entity, customerID: customer)
        }
        return nil
    }

    /// Whether anybody was ever forgotten: the erasure checks on the hot paths cost this one
    /// lookup until then.
    static func anyForgotten(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM forgotten)")) == true
    }

    /// Whether the customer was forgotten (`tidings forget`).
    static func isForgotten(_ db: Database, _ customerID: String) throws -> Bool {
        try anyForgotten(db) && forgottenOwner(db, entity: "customer:\(customerID)") != nil
    }

    /// The forgotten entity an event is about, and whose it was.
    static func forgotten(_ db: Database, _ event: CloudEvent) throws -> (entity: String, customer: String)? {
        for entity in PersonalData.entities(of: event) {
            if let customer = try forgottenOwner(db, entity: entity) { return (entity, customer) }
        }
        return nil
    }

    /// Whose the entity (`customer:c-1`, `order:o-1`) was, if it was forgotten.
    static func forgottenOwner(_ db: Database, entity: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT customer_id FROM forgotten WHERE entity = ?"), arguments: [entity])
    }

    /// The event's stored body, its personal fields sealed with its customer's key (made on
    /// first use), and whose key that is.
    /// A body sealed beforehand (`sealAhead`) is kept when its key is the customer's stored
    /// key, or becomes it; sealed again otherwise (another process gave the customer a key
    /// meanwhile).
    static func sealedBody(_ db: Database, _ event: EncodedEvent, keys: inout CustomerKeys, now: Double) throws -> (body: Data, sealedFor: String?) {
        guard let owner = PersonalData.owner(of: event.event) else { return (try event.body ?? event.event.raw.encoded(), nil) }
        let key = try keys.key(db, owner, now: now, proposed: event.sealedFor == owner ? event.sealedWith : nil)
        if event.sealedFor == owner, event.sealedWith == key, let body = event.body { return (body, owner) }
        // A forgotten customer's key is a throwaway one (`customerKey`): nothing to learn.
        if event.sealedWith != nil, let ring = keys.ring, try !isForgotten(db, owner) { ring.learn(owner, key) }
        return (try event.sealedBody(key: key, owner: owner, nonces: &keys.nonces), owner)
    }

    /// The customer's key, and whether it was made now: made on first use (`proposed`, when the
    /// body was sealed with it). Never for a forgotten customer: their new events are refused,
    /// one stored already (sent again) is sealed with a key that is thrown away and then found
    /// a duplicate, and so is anything else.
    /// Storing one would let the history sealed with it be read again, if it were the key the
    /// forget erased (a `tidings append` seals ahead with keys it read before the forget).
    static func customerKey(_ db: Database, _ customerID: String, now: Double, proposed: Data? = nil) throws -> (key: Data, made: Bool) {
        if let key = try db.cachedStatement(sql: "SELECT key FROM customer_keys WHERE customer_id = ?").fetchFirst(Data.self, binding: customerID) {
            return (key, false)
        }
        if try isForgotten(db, customerID) { return (Sealing.newKey(), false) }
        let key = proposed ?? Sealing.newKey()
        try db.cachedStatement(sql: "INSERT INTO customer_keys (customer_id, key, created_at) VALUES (?, ?, ?)")
            .execute(arguments: [customerID, key, now])
        return (key, true)
    }

    /// Keys kept by `sealAhead` at most: a file of a million customers must not keep a
    /// million keys.
    static let ringLimit = 50_000

    /// Seals events' personal fields before they go to the writer, with the keys in `ring`
    /// (read once per customer, or new): sealing was a fifth of an append's writing. The writer
    /// keeps such a body only when its key is the customer's stored key, or becomes it, and
    /// seals it again otherwise (another process gave the customer a key meanwhile). A key the
    /// ring holds after a `tidings forget` erased it is never stored again (`customerKey`).
    public func sealAhead(_ events: [EncodedEvent], ring: inout [String: Data]) throws -> [EncodedEvent] {
        if ring.count > Self.ringLimit { ring.removeAll(keepingCapacity: true) }
        let owners = events.compactMap { PersonalData.owner(of: $0.event) }
        let unknown = Array(Set(owners.filter { ring[$0] == nil }))
        if !unknown.isEmpty {
            let stored = try read("reading customers' keys") { db in
                try Row.fetchAll(db, sql: "SELECT customer_id, key FROM customer_keys WHERE customer_id IN (SELECT value FROM json_each(?))",
                                 arguments: [String(decoding: JSONValue.array(unknown.map { .string($0) }).encodedBytes(), as: UTF8.self)])
            }
            for row in stored { ring[row[0] as String] = row[1] as Data }
            for owner in unknown where ring[owner] == nil { ring[owner] = Sealing.newKey() }
        }
        var nonces = Sealing.Nonces()
        return try events.map { event in
            guard let owner = PersonalData.owner(of: event.event), let key = ring[owner] else { return event }
            return try event.sealed(key: key, owner: owner, nonces: &nonces)
        }
    }

    /// Seals the personal fields of events stored before sealing existed (migration v9).
    /// A page at a time: a long log must not be held in memory at once.
    static func sealStoredEvents(_ db: Database, now: Date, page: Int = 1_000) throws {
        let types = PersonalData.rules.keys.sorted()
        let select = try db.makeStatement(sql: """
            SELECT position, body FROM events WHERE position > ? AND sealed_for IS NULL
                AND type IN (\(types.map { "'\($0)'" }.joined(separator: ", "))) ORDER BY position LIMIT ?
            """)
        let update = try db.cachedStatement(sql: "UPDATE events SET body = ?, sealed_for = ? WHERE position = ?")
        var after: Int64 = 0
        var keys = CustomerKeys()
        while true {
            let rows = try Row.fetchAll(select, arguments: [after, page])
            for row in rows {
                // One the pipeline cannot read stays as it is: the pipeline quarantines it either way.
                guard let json = try? JSONValue.parse(row["body"] as Data), let event = CloudEvent(stored: json) else { continue }
                let sealed = try sealedBody(db, EncodedEvent(unencoded: event), keys: &keys, now: now.timeIntervalSince1970)
                guard let owner = sealed.sealedFor else { continue }
                try update.execute(arguments: [sealed.body, owner, row["position"] as Int64])
            }
            guard rows.count == page, let last = rows.last?["position"] as Int64? else { return }
            after = last
        }
    }
}

/// Customers' keys looked up once per transaction: a customer's events tend to come together
/// (registered, updated, an order placed), and each would ask again. Only within the writer's
/// transaction, so a key can neither appear nor go meanwhile.
struct CustomerKeys: ~Copyable {
    private var known: [String: Data] = [:]
    /// Keys made in this transaction that no stored event uses yet.
    private var unused: Set<String> = []
    /// For the bodies sealed in the transaction.
    var nonces = Sealing.Nonces()
    /// Where ingest's events were sealed ahead: told the keys it had wrong.
    let ring: SealingKeys?

    init(ring: SealingKeys? = nil) {
        self.ring = ring
    }

    mutating func key(_ db: Database, _ customerID: String, now: Double, proposed: Data? = nil) throws -> Data {
        if let key = known[customerID] { return key }
        let (key, made) = try Store.customerKey(db, customerID, now: now, proposed: proposed)
        known[customerID] = key
        if made { unused.insert(customerID) }
        return key
    }

    /// An event sealed with the customer's key was stored: a key made for it names somebody.
    mutating func used(by customerID: String) {
        if !unused.isEmpty { unused.remove(customerID) }
    }

    /// An event sealed with the customer's key turned out to be stored already (the append's
    /// duplicate): a key made for it alone would name a customer no stored event names, whom
    /// `tidings forget` would then take for real. It is taken back.
    mutating func notUsed(_ db: Database, by customerID: String) throws {
        guard unused.remove(customerID) != nil else { return }
        try db.execute(sql: "DELETE FROM customer_keys WHERE customer_id = ?", arguments: [customerID])
        known[customerID] = nil
    }
}
