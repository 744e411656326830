import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Claims up to `limit` due messages of a channel with a lease, for `owner` (one dispatcher
    /// run). A claim of another owner whose lease has run out (its process died mid-send) is
    /// claimed again first, with the same idempotency key; an owner's own claims never are,
    /// whatever its clock does: they are still in flight.
    public func claim(channel: Channel, limit: Int, now: Date, lease: TimeInterval, owner: String) throws -> [OutboxMessage] {
        try write("claiming \(channel.rawValue) messages") { db in
            try Self.claim(db, channel: channel, limit: limit, now: now, lease: lease, owner: owner)
        }
    }

    /// One dispatcher turn in one transaction (one fsync): records what finished (disabling an
    /// endpoint that answered 410 Gone) and claims what each channel has room for. A disabled
    /// endpoint's messages are all claimed, so the dispatcher can fail them over at once.
    public func settleAndClaim(_ records: [DeliveryRecord], releasing: [Int64] = [], room: [Channel: Int], endpoints: [Channel: String] = [:],
                               now: Date, lease: TimeInterval, owner: String) throws -> OutboxClaim {
        try write("recording \(records.count) results and claiming messages") { db in
            try Self.settleAndClaim(db, records, releasing: releasing, room: room, endpoints: endpoints, now: now, lease: lease, owner: owner)
        }
    }

    static func settleAndClaim(_ db: Database, _ records: [DeliveryRecord], releasing: [Int64], room: [Channel: Int], endpoints: [Channel: String],
                               now: Date, lease: TimeInterval, owner: String) throws -> OutboxClaim {
        let erased = try Self.record(db, records, now: now)
        try Self.release(db, releasing, owner: owner, now: now)
        let withdrawn = try Self.withdrawn(db, owner: owner)
        for record in records {
            guard case .gone(let reason) = record.outcome, let target = endpoints[record.message.channel] else { continue }
            try Self.disableEndpoint(db, channel: record.message.channel, target: target, reason: reason, now: now)
        }
        let disabled = try Self.disabledEndpoints(db, among: endpoints)
        var claimed: [OutboxMessage] = []
        for (channel, limit) in room.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            claimed += try Self.claim(db, channel: channel, limit: disabled[channel] == nil ? limit : 500, now: now, lease: lease,
                                      owner: owner)
        }
        var erasedByChannel: [Channel: [String]] = [:]
        for record in records where erased.contains(record.message.id) {
            erasedByChannel[record.message.channel, default: []].append(record.message.key)
        }
        return OutboxClaim(messages: claimed, disabled: disabled, withdrawn: withdrawn, erased: erasedByChannel)
    }

    /// The due messages of a channel of these priorities, highest `ClaimPriority` first and the
    /// longest due first within one: an arm per priority, so each reads its own range of the
    /// index and one priority's messages due later (a retry in an hour) are never walked over.
    static func due(_ priorities: [ClaimPriority]) -> String {
        priorities.sorted().map { priority in
            """
            SELECT * FROM (
                SELECT id FROM messages WHERE channel = :channel AND priority = \(priority.rawValue)
                    AND state IN \(MessageState.unsent.sqlList) AND due_at <= :now
                ORDER BY due_at LIMIT :limit)
            """
        }.joined(separator: "\nUNION ALL\n")
    }

    /// Claims of another owner whose lease ran out: taken over first, with the same key.
    static let expiredClaims = """
        SELECT id FROM messages WHERE channel = :channel AND state = \(MessageState.sending.sqlLiteral) AND lease_until < :now
            AND claimed_by IS NOT :owner
        """

    /// A dispatcher's claim: expired claims, then everything due.
    static let claimAny = claimStatement(expiredClaims + "\nUNION ALL\n" + due(ClaimPriority.allCases))
    /// The pipeline's claim for the dispatcher (`ClaimHandoff`): what must go out first, due now.
    static let claimFirst = claimStatement(due([.first]))

    static func claimStatement(_ candidates: String) -> String {
        """
        UPDATE messages SET state = \(MessageState.sending.sqlLiteral), claimed_from = \(OutboxClaimText.claimedFrom), lease_until = :lease,
            claimed_by = :owner,
            attempts = attempts + 1,
            route_attempts = route_attempts + 1, route_started_at = COALESCE(route_started_at, :now), updated_at = :now
        WHERE id IN (
            \(candidates)
            LIMIT :limit)
        RETURNING \(Claimed.allCases.map(\.column).joined(separator: ", "))
        """
    }

    /// A message's context, beside a statement on `messages` (`message_contexts`).
    static let contextOfTheMessage = "(SELECT context FROM message_contexts WHERE message_id = messages.id)"
    /// What an erased context becomes (`tidings forget`, `outbox.retention`): an empty object.
    static let erasedContext = "CAST('{}' AS BLOB)"

    /// The columns a claim returns, in order: rows are read by position, since reading them
    /// by name made GRDB lowercase and compare each name for every column of every row.
    enum Claimed: Int, CaseIterable {
        case id, key, workflow, category, customerID, subjectID, recipient, fallback, template, locale, context
        case attempts, routeAttempts, dueAt, leaseUntil, lastError, routeStartedAt, eventAt, priority

        /// The case's name in snake case: `routeAttempts` is `route_attempts`, `customerID`
        /// is `customer_id` (a run of capitals is one word). The context is in a table of its own.
        var column: String {
            guard self != .context else { return Store.contextOfTheMessage }
            var name = ""
            var previous: Character = " "
            for character in "\(self)" {
                if character.isUppercase && previous.isLowercase { name.append("_") }
                name.append(Character(character.lowercased()))
                previous = character
            }
            return name
        }
    }

    /// The first email to the same customer about the same order or ticket, before this one and
    /// not abandoned: a later one answers it (`In-Reply-To`), so they read as one conversation.
    /// A query of its own per claimed email (through `messages_by_customer`): inside the
    /// claim's RETURNING, SQLite could not use an index for it and scanned the table.
    static func threadRoot(_ db: Database, customerID: String, subjectID: String?, before id: Int64) throws -> String? {
        guard let subjectID else { return nil }
        return try db.cachedStatement(sql: threadRootSQL).fetchFirst(String.self, binding: customerID, id, subjectID)
    }

    /// Written once: built at each claimed email, the text was a tenth of the lookup's time.
    private static let threadRootSQL = """
        SELECT key FROM messages
        WHERE customer_id = ? AND id < ? AND subject_id = ? AND channel = '\(Channel.email.rawValue)'
            AND NOT \([MessageState.skipped, .suppressed, .dead, .parked].sqlAnyOf("state"))
        ORDER BY id LIMIT 1
        """

    /// `firstOnly` claims only messages of the first priority that are due (the pipeline's claim
    /// for the dispatcher); otherwise expired claims are taken over first, then all that is due.
    static func claim(_ db: Database, channel: Channel, limit: Int, now: Date, lease: TimeInterval, owner: String,
                      firstOnly: Bool = false) throws -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        let statement = try db.cachedStatement(sql: firstOnly ? claimFirst : claimAny)
        let now = now.timeIntervalSince1970
        // Read in place (`SteppedRow`), not copied into GRDB's rows and looked up again: a
        // claim's rows were a sixth of its time on the writer.
        var claimed: [OutboxMessage] = []
        try statement.forEachRow(named: ["lease": now + lease, "now": now, "channel": channel.rawValue, "limit": limit, "owner": owner]) { row in
            func value<Value: StatementColumnConvertible>(_ column: Claimed) throws -> Value { try row.value(CInt(column.rawValue)) }
            func optional<Value: StatementColumnConvertible>(_ column: Claimed) -> Value? { row.optional(CInt(column.rawValue)) }
            let leaseUntil: Double? = optional(.leaseUntil)
            let routeStartedAt: Double? = optional(.routeStartedAt)
            let eventAt: Double? = optional(.eventAt)
            let progress = DeliveryProgress(
                state: .sending, route: Route(channel: channel, recipient: optional(.recipient) ?? ""),
                fallbacks: Route.routes(try value(.fallback)) ?? [], attempts: try value(.routeAttempts),
                dueAt: Date(timeIntervalSince1970: try value(.dueAt)), leaseUntil: leaseUntil.map(Date.init(timeIntervalSince1970:)),
                lastError: optional(.lastError), routeStartedAt: routeStartedAt.map(Date.init(timeIntervalSince1970:)))
            // Parsed where it is rendered, off the writer: an unreadable one (or none) fails on
            // its own then.
            claimed.append(OutboxMessage(
                id: try value(.id), key: try value(.key), workflow: try value(.workflow), category: try value(.category),
                customerID: try value(.customerID), subjectID: optional(.subjectID), template: try value(.template), locale: try value(.locale),
                storedContext: optional(.context) ?? Data(), totalAttempts: try value(.attempts),
                eventAt: eventAt.map(Date.init(timeIntervalSince1970:)), progress: progress,
                priority: optional(.priority).flatMap(ClaimPriority.init(rawValue:)) ?? .normal))
        }
        // After the claim's rows: its own query per email.
        if channel == .email {
            for index in claimed.indices {
                let message = claimed[index]
                claimed[index].threadRoot = try threadRoot(db, customerID: message.customerID, subjectID: message.subjectID, before: message.id)
            }
        }
        return claimed.sorted(by: OutboxMessage.sendsBefore)
    }

    /// Gives back claims of `owner` that were never sent (claimed ahead, then not needed): each
    /// message returns to the state it was claimed from, as if never claimed, attempt and all.
    static func release(_ db: Database, _ ids: [Int64], owner: String, now: Date) throws {
        guard !ids.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            UPDATE messages SET state = COALESCE(claimed_from, \(MessageState.retrying.sqlLiteral)), claimed_from = NULL, lease_until = NULL,
                claimed_by = NULL, attempts = attempts - 1, route_attempts = route_attempts - 1,
                route_started_at = CASE WHEN route_attempts = 1 THEN NULL ELSE route_started_at END, updated_at = ?
            WHERE id = ? AND state = \(MessageState.sending.sqlLiteral) AND claimed_by = ?
            """)
        let t = now.timeIntervalSince1970
        for id in ids { try statement.execute(arguments: [t, id, owner]) }
    }

    /// Records a batch of attempt results in one transaction (one fsync for the lot).
    public func record(_ records: [DeliveryRecord], now: Date) throws {
        guard !records.isEmpty else { return }
        try write("recording \(records.count) delivery results") { db in _ = try Self.record(db, records, now: now) }
    }

    /// Returns the ids of the recorded messages whose contents were erased meanwhile.
    @discardableResult
    static func record(_ db: Database, _ records: [DeliveryRecord], now: Date) throws -> Set<Int64> {
        guard !records.isEmpty else { return [] }
        let update = try db.cachedStatement(sql: """
            UPDATE messages SET state = ?, channel = ?, recipient = ?, fallback = ?, route_attempts = ?, due_at = ?,
                lease_until = NULL, sent_at = ?, last_error = ?, updated_at = ?, route_started_at = ?
            WHERE id = ?
            """)
        let history = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO message_attempts (message_id, attempt, channel, at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)
            """)
        let now = now.timeIntervalSince1970
        for record in records {
            let message = record.message
            let next = record.next
            let fallback = try Route.document(next.fallbacks)
            try update.execute(binding:
                next.state.rawValue, next.route.channel.rawValue, next.route.recipient, fallback, next.attempts,
                next.dueAt.timeIntervalSince1970, next.state == .sent ? now : nil, next.lastError, now,
                next.routeStartedAt?.timeIntervalSince1970, message.id)
            try history.execute(binding:
                message.id, message.totalAttempts, message.channel.rawValue, now, record.outcome.label, record.outcome.detail)
        }
        return try eraseReturned(db, ids: records.map(\.message.id))
    }

    /// Puts dead messages back in the queue (all of them, or one), for an operator's retry: they
    /// start again on the channel they died on, with a fresh count of attempts. One whose
    /// contents were erased (its customer was forgotten) has nothing left to send and stays.
    @discardableResult
    public func retry(messageID: Int64?, now: Date, by actor: OperatorAction.Actor) throws -> Int {
        try write("queueing messages for retry") { db in
            let t = now.timeIntervalSince1970
            try db.execute(sql: """
                UPDATE messages SET state = \(MessageState.pending.sqlLiteral), route_attempts = 0, route_started_at = NULL, due_at = ?,
                    updated_at = ?
                WHERE state IN \(MessageState.retryable.sqlList) AND (? IS NULL OR id = ?) AND erased_at IS NULL
                """, arguments: [t, t, messageID, messageID])
            let count = db.changesCount
            try Self.record(db, OperatorAction(at: now, actor: actor, kind: .retry, target: OperatorAction.retryTarget(messageID), affected: count))
            return count
        }
    }
}

extension Store {
    /// Puts the claims of a process that died mid-send back in the queue, due at once. Only for
    /// a daemon that holds the database's lock: no other process can have a send in flight. The
    /// lost attempt is written into the history, since its result was never recorded.
    @discardableResult
    public func releaseInterruptedClaims(now: Date) throws -> Int {
        try write("releasing interrupted claims") { db in try Self.releaseInterruptedClaims(db, now: now) }
    }

    static func releaseInterruptedClaims(_ db: Database, now: Date) throws -> Int {
        let t = now.timeIntervalSince1970
        try db.execute(sql: """
            INSERT OR IGNORE INTO message_attempts (message_id, attempt, channel, at, outcome, detail)
            SELECT id, attempts, channel, ?, 'interrupted', 'the process stopped before it recorded the result'
            FROM messages WHERE state = \(MessageState.sending.sqlLiteral)
            """, arguments: [t])
        try db.execute(sql: """
            UPDATE messages SET state = \(MessageState.retrying.sqlLiteral), due_at = ?, lease_until = NULL
            WHERE state = \(MessageState.sending.sqlLiteral)
            """, arguments: [t])
        return db.changesCount
    }
}
