import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// Tidings' channel, not SwiftNIO's (which PostgresNIO exports).
typealias Channel = TidingsCore.Channel

/// The outbox as every instance's dispatcher sees it on PostgreSQL. Claims lock their rows
/// with `FOR UPDATE SKIP LOCKED`, so dispatchers of several instances claiming at once never
/// take the same message (nor wait for each other), and a claim another run holds is taken over
/// only once its lease has run out: its process died mid-send, or lost the database.
public struct PostgresOutbox: OutboxQueue {
    let backend: PostgresBackend

    public init(backend: PostgresBackend) {
        self.backend = backend
    }

    var logger: Logger { backend.logger }

    public func settleAndClaim(_ records: [DeliveryRecord], releasing: [Int64], room: [TidingsCore.Channel: Int],
                               endpoints: [TidingsCore.Channel: String], now: Date,
                               lease: TimeInterval, owner: String) async throws -> OutboxClaim {
        try await backend.transaction("recording \(records.count) results and claiming messages") { connection in
            let erased = try await record(records, now: now, on: connection)
            try await release(releasing, owner: owner, now: now, on: connection)
            let withdrawn = try await withdrawn(owner: owner, on: connection)
            for record in records {
                guard case .gone(let reason) = record.outcome, let target = endpoints[record.message.channel] else { continue }
                try await connection.run("""
                    INSERT INTO endpoints (channel, target, disabled_at, reason)
                    VALUES (\(record.message.channel.rawValue), \(target), \(now.timeIntervalSince1970), \(reason))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            let disabled = try await disabledEndpoints(among: endpoints, on: connection)
            var claimed: [OutboxMessage] = []
            for (channel, limit) in room.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                claimed += try await claim(channel: channel, limit: disabled[channel] == nil ? limit : 500, now: now, lease: lease, owner: owner,
                                           on: connection)
            }
            var erasedByChannel: [Channel: [String]] = [:]
            for record in records where erased.contains(record.message.id) {
                erasedByChannel[record.message.channel, default: []].append(record.message.key)
            }
            return OutboxClaim(messages: claimed, disabled: disabled, withdrawn: withdrawn, erased: erasedByChannel)
        }
    }

    public func record(_ records: [DeliveryRecord], now: Date) async throws {
        guard !records.isEmpty else { return }
        try await backend.transaction("recording \(records.count) delivery results") { connection in
            _ = try await record(records, now: now, on: connection)
        }
    }

    /// On PostgreSQL other instances may be sending, so nothing is taken back at start: claims
    /// of a run that died are taken over when their lease runs out (`dispatcher.lease_seconds`).
    public func releaseInterruptedClaims(now: Date) async throws -> Int { 0 }

    /// Claims of another run whose lease ran out first, with the same key; then what is due, the
    /// highest `ClaimPriority` first and the longest due first within one. Each arm is one
    /// statement that locks what it takes and skips what another transaction has locked.
    func claim(channel: Channel, limit: Int, now: Date, lease: TimeInterval, owner: String, on connection: PostgresConnection) async throws
        -> [OutboxMessage]
    {
        var claimed: [OutboxMessage] = []
        let t = now.timeIntervalSince1970
        let expired = """
            SELECT id FROM messages WHERE channel = $1 AND state = \(MessageState.sending.sqlLiteral) AND lease_until < $2
                AND claimed_by IS DISTINCT FROM $3 ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED
            """
        let due = ClaimPriority.allCases.sorted().map { priority in
            """
            SELECT id FROM messages WHERE channel = $1 AND priority = \(priority.rawValue) AND state IN \(MessageState.unsent.sqlList)
                AND due_at <= $2 ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED
            """
        }
        for candidates in [expired] + due {
            let room = limit - claimed.count
            guard room > 0 else { break }
            var binds = PostgresBindings()
            binds.append(channel.rawValue)
            binds.append(t)
            binds.append(owner)
            binds.append(room)
            binds.append(t + lease)
            let rows = try await connection.run(PostgresQuery(unsafeSQL: """
                UPDATE messages SET state = \(MessageState.sending.sqlLiteral), claimed_from = \(OutboxClaimText.claimedFrom),
                    lease_until = $5, claimed_by = $3,
                    attempts = attempts + 1, route_attempts = route_attempts + 1, route_started_at = COALESCE(route_started_at, $2),
                    updated_at = $2
                WHERE id IN (\(candidates))
                RETURNING id, key, workflow, category, customer_id, subject_id, recipient, fallback, template, locale, context,
                    attempts, route_attempts, due_at, lease_until, last_error, route_started_at, event_at, priority
                """, binds: binds), logger: logger)
            for try await row in rows {
                let (id, key, workflow, category, customerID, subjectID, recipient, fallback, template, locale, context,
                     attempts, routeAttempts, dueAt, leaseUntil, lastError, routeStartedAt, eventAt, priority) =
                    try row.decode((Int64, String, String, String, String, String?, String?, String, String, String, Data,
                                    Int64, Int64, Double, Double?, String?, Double?, Double?, Int64).self)
                let progress = DeliveryProgress(
                    state: .sending, route: Route(channel: channel, recipient: recipient ?? ""), fallbacks: Route.routes(fallback) ?? [],
                    attempts: Int(routeAttempts), dueAt: Date(timeIntervalSince1970: dueAt), leaseUntil: leaseUntil.map(Date.init(timeIntervalSince1970:)),
                    lastError: lastError, routeStartedAt: routeStartedAt.map(Date.init(timeIntervalSince1970:)))
                // Parsed where it is rendered: an unreadable one fails on its own then.
                claimed.append(OutboxMessage(
                    id: id, key: key, workflow: workflow, category: category, customerID: customerID, subjectID: subjectID,
                    template: template, locale: locale, storedContext: context, totalAttempts: Int(attempts),
                    eventAt: eventAt.map(Date.init(timeIntervalSince1970:)), progress: progress,
                    priority: ClaimPriority(rawValue: Int(priority)) ?? .normal))
            }
        }
        if channel == .email {
            for index in claimed.indices {
                claimed[index].threadRoot = try await threadRoot(of: claimed[index], on: connection)
            }
        }
        return claimed.sorted(by: OutboxMessage.sendsBefore)
    }

    /// The first email to the same customer about the same order or ticket, before this one and
    /// not abandoned: a later one answers it (`In-Reply-To`), so they read as one conversation.
    func threadRoot(of message: OutboxMessage, on connection: PostgresConnection) async throws -> String? {
        guard let subjectID = message.subjectID else { return nil }
        let rows = try await connection.run(PostgresQuery(unsafeSQL: """
            SELECT key FROM messages
            WHERE customer_id = $1 AND id < $2 AND subject_id = $3 AND channel = '\(Channel.email.rawValue)'
                AND state NOT IN \([MessageState.skipped, .suppressed, .dead, .parked].sqlList)
            ORDER BY id LIMIT 1
            """, binds: PostgresBindings.of(message.customerID, message.id, subjectID)), logger: logger)
        for try await key in rows.decode(String.self) { return key }
        return nil
    }

    /// Gives back claims of `owner` that were never sent: each message returns to the state it
    /// was claimed from, as if never claimed, attempt and all.
    func release(_ ids: [Int64], owner: String, now: Date, on connection: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await connection.run(PostgresQuery(unsafeSQL: """
            UPDATE messages SET state = COALESCE(claimed_from, \(MessageState.retrying.sqlLiteral)), claimed_from = NULL, lease_until = NULL,
                claimed_by = NULL, attempts = attempts - 1, route_attempts = route_attempts - 1,
                route_started_at = CASE WHEN route_attempts = 1 THEN NULL ELSE route_started_at END, updated_at = $1
            WHERE id = ANY($2) AND state = \(MessageState.sending.sqlLiteral) AND claimed_by = $3
            """, binds: PostgresBindings.of(now.timeIntervalSince1970, ids, owner)), logger: logger)
    }

    /// Every result of a turn in two statements: the messages, then their attempts. Returns the
    /// ids of those whose contents were erased meanwhile (their customer was forgotten).
    func record(_ records: [DeliveryRecord], now: Date, on connection: PostgresConnection) async throws -> Set<Int64> {
        guard !records.isEmpty else { return [] }
        let t = now.timeIntervalSince1970
        let next = records.map(\.next)
        let ids = records.map(\.message.id)
        let sentAt = next.map { $0.state == .sent ? t : -1 }
        let routeStarted = next.map { $0.routeStartedAt?.timeIntervalSince1970 ?? -1 }
        let errors = next.map { $0.lastError ?? "" }
        let hasError = next.map { $0.lastError != nil }
        // The erased among them (their customer forgotten while they were out) come back with
        // the statement, so that erasing them again costs a round trip only when there are any.
        var erased: [Int64] = []
        for try await id in try await connection.run("""
            UPDATE messages m SET state = r.state, channel = r.channel, recipient = r.recipient, fallback = r.fallback,
                route_attempts = r.attempts, due_at = r.due_at, lease_until = NULL, sent_at = NULLIF(r.sent_at, -1),
                last_error = CASE WHEN r.has_error THEN r.error END, updated_at = \(t), route_started_at = NULLIF(r.route_started, -1)
            FROM unnest(\(ids)::int8[], \(next.map(\.state.rawValue))::text[], \(next.map(\.route.channel.rawValue))::text[],
                        \(next.map(\.route.recipient))::text[], \(try next.map { try Route.document($0.fallbacks) })::text[],
                        \(next.map(\.attempts))::int8[], \(next.map(\.dueAt.timeIntervalSince1970))::float8[], \(sentAt)::float8[],
                        \(errors)::text[], \(hasError)::bool[], \(routeStarted)::float8[])
                AS r(id, state, channel, recipient, fallback, attempts, due_at, sent_at, error, has_error, route_started)
            WHERE m.id = r.id
            RETURNING CASE WHEN m.erased_at IS NOT NULL THEN m.id END
            """, logger: logger).decode(Int64?.self) {
            if let id { erased.append(id) }
        }
        try await connection.run("""
            INSERT INTO message_attempts (message_id, attempt, channel, at, outcome, detail)
            SELECT r.id, r.attempt, r.channel, \(t), r.outcome, r.detail
            FROM unnest(\(ids)::int8[], \(records.map(\.message.totalAttempts))::int8[], \(records.map(\.message.channel.rawValue))::text[],
                        \(records.map(\.outcome.label))::text[], \(records.map(\.outcome.detail))::text[])
                AS r(id, attempt, channel, outcome, detail)
            ON CONFLICT (message_id, attempt) DO UPDATE SET channel = excluded.channel, at = excluded.at, outcome = excluded.outcome,
                detail = excluded.detail
            """, logger: logger)
        return try await PostgresErasure.eraseReturned(erased, on: connection, logger: logger)
    }

    /// The claims of `owner` a forget withdrew: handed to the dispatcher once, which drops them unsent.
    func withdrawn(owner: String, on connection: PostgresConnection) async throws -> Set<Int64> {
        var ids: Set<Int64> = []
        let rows = try await connection.run("""
            UPDATE messages SET claimed_from = NULL WHERE claimed_from = \(PersonalData.withdrawnMark) AND claimed_by = \(owner) RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { ids.insert(id) }
        return ids
    }

    /// Disabled endpoints, by channel, among the ones the configuration uses now.
    func disabledEndpoints(among endpoints: [Channel: String], on connection: PostgresConnection) async throws -> [Channel: DisabledEndpoint] {
        guard !endpoints.isEmpty else { return [:] }
        var disabled: [Channel: DisabledEndpoint] = [:]
        let rows = try await connection.run("SELECT channel, target, disabled_at, reason FROM endpoints", logger: logger)
        for try await (name, target, since, reason) in rows.decode((String, String, Double, String).self) {
            guard let channel = Channel(rawValue: name), endpoints[channel] == target else { continue }
            disabled[channel] = DisabledEndpoint(channel: channel, target: target, since: Date(timeIntervalSince1970: since), reason: reason)
        }
        return disabled
    }

}
