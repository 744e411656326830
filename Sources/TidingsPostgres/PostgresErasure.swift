import Foundation
import Logging
import PostgresNIO
import TidingsCore

/// `tidings forget` on PostgreSQL, as on SQLite (`Store.forget`): the customer's key goes (what
/// the log holds of them can never be read again), `customer.forgotten` is recorded, their
/// models, timers, contexts and addresses are purged, and their new events are refused. One
/// transaction; every instance's pipeline, dispatcher and ingest see it at their next one.
public struct PostgresErasure: Sendable {
    let log: PostgresLog

    public init(log: PostgresLog) {
        self.log = log
    }

    var logger: Logger { log.backend.logger }

    public func forget(customerID: String, eventID: String, now: Date) async throws -> ForgetSummary {
        var summary = try await log.backend.transaction("forgetting customer \(customerID)") { connection in
            // Appends of personal data in flight finish first, and new ones wait (`AdvisoryLock.erasure`);
            // two forgets of one customer take turns, and the second finds the first.
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.erasure.rawValue))", logger: logger)
            for try await at in try await connection.run("SELECT forgotten_at FROM forgotten WHERE entity = \("customer:\(customerID)")",
                                                           logger: logger).decode(Double.self) {
                throw PostgresBackendError(.invalidRequest, """
                    customer \(customerID) was forgotten already, at \(Timestamp.format(Date(timeIntervalSince1970: at))): nothing of theirs is left to erase
                    """)
            }
            var known = false
            for try await exists in try await connection.run("""
                SELECT EXISTS (SELECT 1 FROM customer_keys WHERE customer_id = \(customerID)) OR EXISTS (SELECT 1 FROM customers WHERE id = \(customerID))
                    OR EXISTS (SELECT 1 FROM orders WHERE customer_id = \(customerID)) OR EXISTS (SELECT 1 FROM tickets WHERE customer_id = \(customerID))
                    OR EXISTS (SELECT 1 FROM messages WHERE customer_id = \(customerID))
                """, logger: logger).decode(Bool.self) { known = exists }
            guard known else {
                throw PostgresBackendError(.invalidRequest, """
                    there is no customer \(customerID): no event, model or message names them. Check the id \
                    (`tidings deliveries list --customer ID` shows what was sent to one)
                    """)
            }
            let appended = try await log.append([PersonalData.forgotten(customerID: customerID, id: eventID, at: now)], now: now, on: connection)
            guard appended.positionsLater == 1 else {
                throw PostgresBackendError(.invalidRequest, "an event with the id \(eventID) is in the log already; run tidings forget again")
            }
            try await connection.run("DELETE FROM customer_keys WHERE customer_id = \(customerID)", logger: logger)
            return try await Self.purge(customerID, now: now, on: connection, logger: logger)
        }
        // Its position is given after the commit, by whichever instance sequences first.
        try await log.sequence()
        summary.position = try await log.backend.connection("finding the forget in the log") { connection in
            for try await position in try await connection.run("""
                SELECT position FROM events WHERE id = \(eventID) AND type = \(PersonalData.forgottenType)
                """, logger: logger).decode(Int64?.self) { return position ?? 0 }
            return 0
        }
        return summary
    }

    /// Takes a forgotten customer out of the models, timers and outbox, and marks them and
    /// their orders and tickets forgotten: by `forget`, and again when the pipeline meets the
    /// event (what it applied of theirs meanwhile goes too). The same rule as `Store.purge`.
    static func purge(_ customerID: String, now: Date, on connection: PostgresConnection, logger: Logger) async throws -> ForgetSummary {
        let at = now.timeIntervalSince1970
        var orders: [String] = [], tickets: [String] = []
        for try await id in try await connection.run("SELECT id FROM orders WHERE customer_id = \(customerID)", logger: logger).decode(String.self) {
            orders.append(id)
        }
        for try await id in try await connection.run("SELECT id FROM tickets WHERE customer_id = \(customerID)", logger: logger).decode(String.self) {
            tickets.append(id)
        }
        let entities = ["customer:\(customerID)"] + orders.map { "order:\($0)" } + tickets.map { "ticket:\($0)" }
        try await connection.run("""
            INSERT INTO forgotten (entity, customer_id, forgotten_at) SELECT e, \(customerID), \(at) FROM unnest(\(entities)::text[]) AS e
            ON CONFLICT (entity) DO NOTHING
            """, logger: logger)
        try await connection.run("""
            DELETE FROM timers WHERE (type LIKE 'order.%' AND subject = ANY(\(orders)::text[]))
                OR (type LIKE 'ticket.%' AND subject = ANY(\(tickets)::text[]))
            """, logger: logger)
        try await connection.run("DELETE FROM fanout WHERE order_id = ANY(\(orders)::text[])", logger: logger)
        try await connection.run("DELETE FROM orders WHERE customer_id = \(customerID)", logger: logger)
        try await connection.run("DELETE FROM tickets WHERE customer_id = \(customerID)", logger: logger)
        try await connection.run("DELETE FROM customers WHERE id = \(customerID)", logger: logger)
        // Events waiting for the customer's orders or tickets wait for what will never come.
        try await connection.run("""
            DELETE FROM held_events WHERE waiting_for IN (SELECT entity FROM forgotten WHERE customer_id = \(customerID))
            """, logger: logger)
        var unsent = 0
        for try await _ in try await connection.run("""
            UPDATE messages SET state = \(MessageState.skipped.rawValue), last_error = \(PersonalData.unsentReason), updated_at = \(at),
                lease_until = NULL,
                claimed_from = CASE WHEN state = \(MessageState.sending.rawValue) THEN \(PersonalData.withdrawnMark) ELSE claimed_from END
            WHERE customer_id = \(customerID) AND state = ANY(\(PersonalData.unsentStates.map(\.rawValue))::text[])
            RETURNING id
            """, logger: logger).decode(Int64.self) { unsent += 1 }
        var keys: [String] = []
        for try await key in try await connection.run("SELECT key FROM messages WHERE customer_id = \(customerID) ORDER BY id", logger: logger)
            .decode(String.self) { keys.append(key) }
        // The history stays (states, times, attempts); what it said and to whom does not (the
        // fallback routes carry addresses too).
        try await connection.run("""
            UPDATE messages SET context = convert_to('{}', 'UTF8'), recipient = CASE WHEN recipient IS NULL THEN NULL ELSE \(PersonalData.erasedRecipient) END,
                fallback = '[]', erased_at = COALESCE(erased_at, \(at)),
                last_error = CASE WHEN last_error IS NULL OR last_error = \(PersonalData.unsentReason) THEN last_error ELSE '(erased)' END
            WHERE customer_id = \(customerID)
            """, logger: logger)
        try await connection.run("""
            UPDATE message_attempts SET detail = NULL WHERE message_id IN (SELECT id FROM messages WHERE customer_id = \(customerID))
            """, logger: logger)
        try await connection.run("""
            UPDATE message_receipts SET detail = NULL WHERE message_id IN (SELECT id FROM messages WHERE customer_id = \(customerID))
            """, logger: logger)
        return ForgetSummary(position: 0, orders: orders.count, tickets: tickets.count, messages: keys.count, unsent: unsent, keys: keys,
                             orderIDs: orders, ticketIDs: tickets)
    }

    /// A message that was in flight when its customer was forgotten comes back from the
    /// dispatcher with the address and the server's answer (a record writes them): erased
    /// again, and skipped if it would be tried again. Returns the ids it erased.
    static func eraseReturned(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let retried = PersonalData.retriedStates.map(\.rawValue)
        var erased: Set<Int64> = []
        for try await id in try await connection.run("""
            UPDATE messages SET
                state = CASE WHEN state = ANY(\(retried)::text[]) THEN \(MessageState.skipped.rawValue) ELSE state END,
                last_error = CASE WHEN state = ANY(\(retried)::text[]) THEN \(PersonalData.unsentReason)
                    WHEN last_error IS NULL THEN NULL ELSE '(erased)' END,
                recipient = CASE WHEN recipient IS NULL THEN NULL ELSE \(PersonalData.erasedRecipient) END, fallback = '[]'
            WHERE id = ANY(\(ids)::int8[]) AND erased_at IS NOT NULL
            RETURNING id
            """, logger: logger).decode(Int64.self) { erased.insert(id) }
        if !erased.isEmpty {
            try await connection.run("UPDATE message_attempts SET detail = NULL WHERE message_id = ANY(\(Array(erased))::int8[])", logger: logger)
        }
        return erased
    }
}
