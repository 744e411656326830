import Foundation
import PostgresNIO
import TidingsCore

/// The schema, as ordered migrations. Each runs once, recorded in `schema_migrations`; every
/// instance runs them on start, one at a time (an advisory lock), so two instances starting
/// together do not race.
enum PostgresSchema {
    static let migrations: [(name: String, sql: [String])] = [
        ("v1: the log, customer keys, forgotten customers, checkpoints", [
            """
            CREATE TABLE events (
                -- The order of insertion, from a sequence: transactions can commit out of this order.
                entry bigserial PRIMARY KEY,
                -- The log's order, given after commit by the sequencer (PostgresLog.sequence).
                -- NULL until then.
                position bigint UNIQUE,
                source text NOT NULL,
                id text NOT NULL,
                type text NOT NULL,
                subject text,
                recorded_at double precision NOT NULL,
                body bytea NOT NULL,
                -- Whose key seals the event's personal fields (PersonalData); NULL for none.
                sealed_for text,
                UNIQUE (source, id)
            )
            """,
            "CREATE INDEX events_unsequenced ON events (entry) WHERE position IS NULL",
            """
            CREATE TABLE customer_keys (
                customer_id text PRIMARY KEY,
                key bytea NOT NULL,
                created_at double precision NOT NULL
            )
            """,
            """
            CREATE TABLE forgotten (
                entity text PRIMARY KEY,
                customer_id text NOT NULL,
                forgotten_at double precision NOT NULL
            )
            """,
            """
            CREATE TABLE checkpoints (
                name text PRIMARY KEY,
                position bigint NOT NULL
            )
            """,
        ]),
        ("v2: the outbox, attempts, disabled endpoints", [
            """
            CREATE TABLE messages (
                id bigserial PRIMARY KEY,
                key text NOT NULL UNIQUE,
                workflow text NOT NULL,
                category text NOT NULL,
                customer_id text NOT NULL,
                subject_id text,
                event_position bigint NOT NULL,
                channel text,
                recipient text,
                fallback text NOT NULL DEFAULT '[]',
                template text NOT NULL,
                locale text NOT NULL,
                context bytea NOT NULL,
                state text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                route_attempts integer NOT NULL DEFAULT 0,
                created_at double precision NOT NULL,
                due_at double precision NOT NULL,
                lease_until double precision,
                sent_at double precision,
                updated_at double precision NOT NULL,
                last_error text,
                route_started_at double precision,
                event_at double precision,
                -- The dispatcher run that holds the claim, and the state it took the message from.
                claimed_by text,
                claimed_from text,
                priority integer NOT NULL DEFAULT 1,
                erased_at double precision
            )
            """,
            "CREATE INDEX messages_claimable_by_priority ON messages (channel, priority, due_at) WHERE state IN \(MessageState.unsent.sqlList)",
            "CREATE INDEX messages_claimed ON messages (channel, lease_until) WHERE state = \(MessageState.sending.sqlLiteral)",
            "CREATE INDEX messages_by_customer ON messages (customer_id, id)",
            "CREATE INDEX messages_withdrawn ON messages (claimed_by) WHERE claimed_from = '\(PersonalData.withdrawnMark)'",
            """
            CREATE TABLE message_attempts (
                message_id bigint NOT NULL REFERENCES messages (id),
                attempt integer NOT NULL,
                channel text NOT NULL,
                at double precision NOT NULL,
                outcome text NOT NULL,
                detail text,
                PRIMARY KEY (message_id, attempt)
            )
            """,
            """
            CREATE TABLE endpoints (
                channel text NOT NULL,
                target text NOT NULL,
                disabled_at double precision NOT NULL,
                reason text NOT NULL,
                PRIMARY KEY (channel, target)
            )
            """,
        ]),
        ("v3: deadline timers, the simulated clock", [
            """
            CREATE TABLE timers (
                type text NOT NULL,
                subject text NOT NULL,
                due_at double precision NOT NULL,
                scheduled_by bigint NOT NULL,
                PRIMARY KEY (type, subject)
            )
            """,
            "CREATE INDEX timers_due ON timers (due_at)",
            """
            CREATE TABLE clock (
                id integer PRIMARY KEY CHECK (id = 1),
                now double precision NOT NULL,
                applied double precision
            )
            """,
        ]),
        ("v4: read models, held events, messages about several orders", [
            "CREATE TABLE customers (id text PRIMARY KEY, doc bytea NOT NULL, position bigint NOT NULL, suppressed integer NOT NULL DEFAULT 0)",
            """
            CREATE TABLE orders (
                id text PRIMARY KEY, customer_id text NOT NULL, status text NOT NULL, doc bytea NOT NULL, position bigint NOT NULL,
                region text, carrier text
            )
            """,
            "CREATE INDEX orders_by_customer ON orders (customer_id)",
            "CREATE INDEX orders_open_by_region ON orders (lower(region)) WHERE status IN \(Order.Status.undelivered.sqlList)",
            "CREATE INDEX orders_open_by_carrier ON orders (lower(carrier)) WHERE status IN \(Order.Status.undelivered.sqlList)",
            """
            CREATE TABLE tickets (
                id text PRIMARY KEY, customer_id text NOT NULL, kind text NOT NULL, status text NOT NULL, doc bytea NOT NULL,
                position bigint NOT NULL
            )
            """,
            "CREATE INDEX tickets_by_customer ON tickets (customer_id)",
            """
            CREATE TABLE held_events (
                position bigint NOT NULL,
                scope text NOT NULL DEFAULT '',
                kind text NOT NULL,
                waiting_for text,
                reason text NOT NULL,
                held_at double precision NOT NULL,
                expires_at double precision,
                attempts integer NOT NULL DEFAULT 1,
                retry_requested boolean NOT NULL DEFAULT false,
                PRIMARY KEY (position, scope)
            )
            """,
            "CREATE INDEX held_events_by_entity ON held_events (waiting_for) WHERE waiting_for IS NOT NULL",
            """
            CREATE TABLE message_subjects (
                subject_id text NOT NULL,
                message_id bigint NOT NULL REFERENCES messages (id),
                PRIMARY KEY (subject_id, message_id)
            )
            """,
            "CREATE INDEX messages_unsent_by_subject ON messages (subject_id, category) WHERE state IN \(MessageState.unsent.sqlList)",
            "CREATE INDEX messages_by_subject ON messages (subject_id, workflow)",
            "CREATE INDEX messages_parked ON messages (customer_id, due_at) WHERE state = \(MessageState.parked.sqlLiteral)",
        ]),
        ("v5: the disruption fan-out queue", [
            """
            CREATE TABLE fanout (
                event_position bigint NOT NULL,
                order_id text NOT NULL,
                PRIMARY KEY (event_position, order_id)
            )
            """,
            "CREATE INDEX fanout_by_order ON fanout (order_id)",
        ]),
        ("v6: delivery receipts", [
            """
            CREATE TABLE message_receipts (
                message_id bigint NOT NULL REFERENCES messages (id),
                event_position bigint NOT NULL,
                at double precision NOT NULL,
                channel text NOT NULL,
                status text NOT NULL,
                kind text,
                provider text NOT NULL,
                detail text,
                PRIMARY KEY (message_id, event_position)
            )
            """,
            "CREATE INDEX messages_by_recipient ON messages (recipient, channel) WHERE state = \(MessageState.sent.sqlLiteral)",
            "CREATE INDEX messages_unsent_by_customer ON messages (customer_id) WHERE state IN \(MessageState.unsent.sqlList)",
        ]),
        ("v7: rate limits and pauses shared by the instances", [
            // Each dispatcher says it is alive once a second; the live ones share the rate limits.
            "CREATE TABLE dispatchers (owner text PRIMARY KEY, seen_at timestamptz NOT NULL)",
            // A channel some instance's circuit breaker paused; kept until a probe gets through.
            """
            CREATE TABLE channel_pauses (
                channel text PRIMARY KEY,
                paused_until double precision NOT NULL,
                trips integer NOT NULL
            )
            """,
        ]),
        ("v8: what outbox.retention still has to drop", [
            "CREATE INDEX messages_retained ON messages (updated_at) WHERE erased_at IS NULL AND state IN \(Retention.endedStates.sqlList)",
        ]),
        ("v9: operator actions", [
            // Retries and enables done by hand, written with their effect (`OperatorAction`).
            """
            CREATE TABLE operator_actions (
                id bigserial PRIMARY KEY,
                at double precision NOT NULL,
                via text NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                target text NOT NULL,
                affected bigint NOT NULL
            )
            """,
        ]),
        ("v10: messenger receipts' index on messenger messages only", [
            // As SQLite's v16: sent SMS and email no longer enter an index only messenger
            // receipts read.
            "DROP INDEX messages_by_recipient",
            """
            CREATE INDEX messages_sent_by_messenger ON messages (recipient)
                WHERE state = \(MessageState.sent.sqlLiteral) AND channel = '\(TidingsCore.Channel.messenger.rawValue)'
            """,
        ]),
    ]
}

/// The advisory locks the instances share, one key each (any 64-bit number; these spell "tidings" and a part).
enum AdvisoryLock: Int64 {
    case migrations = 0x7469_6469_6e67_0001
    case sequencer = 0x7469_6469_6e67_0002
    case pipeline = 0x7469_6469_6e67_0003
    /// Held shared by every append of personal data and exclusively by a forget: an append
    /// whose refusal check ran before a forget committed must not then make the customer a
    /// new key and store their data after the forget.
    case erasure = 0x7469_6469_6e67_0004
}

extension PostgresBackend {
    /// Applies the migrations not yet applied, under the migrations lock; returns every applied name.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await transaction("bringing the PostgreSQL schema up to date", .migrationFailed) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(AdvisoryLock.migrations.rawValue))", logger: logger)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: [String] = []
            for try await name in try await connection.run("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                applied.append(name)
            }
            let known = Set(PostgresSchema.migrations.map(\.name))
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw PostgresBackendError(.migrationFailed, """
                    the database was migrated by a newer Tidings (it has "\(unknown)"): run that version, or point database.url at another database
                    """)
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.run("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                applied.append(migration.name)
            }
            return applied
        }
    }
}
