import Foundation
import GRDB

/// The database schema, as ordered migrations. Read models, outbox and checkpoint can all be
/// rebuilt from `events`; only `events` and the send history in `messages` are irreplaceable.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    position INTEGER PRIMARY KEY AUTOINCREMENT,
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    subject TEXT,
                    recorded_at REAL NOT NULL,
                    body BLOB NOT NULL,
                    UNIQUE (source, id)
                );
                CREATE TABLE checkpoints (
                    name TEXT PRIMARY KEY,
                    position INTEGER NOT NULL
                );
                CREATE TABLE customers (
                    id TEXT PRIMARY KEY,
                    doc BLOB NOT NULL,
                    position INTEGER NOT NULL
                );
                CREATE TABLE orders (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    doc BLOB NOT NULL,
                    position INTEGER NOT NULL
                );
                CREATE INDEX orders_by_customer ON orders (customer_id);
                CREATE TABLE tickets (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    doc BLOB NOT NULL,
                    position INTEGER NOT NULL
                );
                CREATE INDEX tickets_by_customer ON tickets (customer_id);
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL UNIQUE,
                    workflow TEXT NOT NULL,
                    category TEXT NOT NULL,
                    customer_id TEXT NOT NULL,
                    subject_id TEXT,
                    event_position INTEGER NOT NULL,
                    channel TEXT,
                    recipient TEXT,
                    fallback TEXT NOT NULL DEFAULT '[]',
                    template TEXT NOT NULL,
                    locale TEXT NOT NULL,
                    context BLOB NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    route_attempts INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    due_at REAL NOT NULL,
                    lease_until REAL,
                    sent_at REAL,
                    updated_at REAL NOT NULL,
                    last_error TEXT
                );
                CREATE INDEX messages_due ON messages (channel, state, due_at);
                CREATE INDEX messages_by_state ON messages (state);
                CREATE INDEX messages_by_customer ON messages (customer_id, id);
                CREATE TABLE message_attempts (
                    message_id INTEGER NOT NULL REFERENCES messages (id),
                    attempt INTEGER NOT NULL,
                    channel TEXT NOT NULL,
                    at REAL NOT NULL,
                    outcome TEXT NOT NULL,
                    detail TEXT,
                    PRIMARY KEY (message_id, attempt)
                );
                """)
        }
        migrator.registerMigration("v2: retry clock per route, disabled endpoints, event time") { db in
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN route_started_at REAL;
                -- When the event behind the message was recorded: the start of its latency.
                ALTER TABLE messages ADD COLUMN event_at REAL;
                CREATE TABLE endpoints (
                    channel TEXT NOT NULL,
                    target TEXT NOT NULL,
                    disabled_at REAL NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (channel, target)
                );
                -- Claims take the oldest due message first, whatever its state.
                CREATE INDEX messages_claimable ON messages (channel, due_at) WHERE state IN ('pending', 'retrying');
                -- Messages already retrying keep their give-up clock: it started at their first attempt.
                UPDATE messages SET route_started_at = (
                    SELECT MIN(at) FROM message_attempts WHERE message_id = messages.id AND channel = messages.channel)
                WHERE state IN ('retrying', 'sending');
                """)
        }
        migrator.registerMigration("v3: deadline timers, disruption fan-out, simulated clock") { db in
            try db.execute(sql: """
                -- One running timer per subject and deadline; the clock turns a due one into an event.
                CREATE TABLE timers (
                    type TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    due_at REAL NOT NULL,
                    scheduled_by INTEGER NOT NULL,
                    PRIMARY KEY (type, subject)
                ) WITHOUT ROWID;
                CREATE INDEX timers_due ON timers (due_at);
                -- Orders a disruption affects, still to be told, worked off in chunks.
                CREATE TABLE fanout (
                    event_position INTEGER NOT NULL,
                    order_id TEXT NOT NULL,
                    PRIMARY KEY (event_position, order_id)
                ) WITHOUT ROWID;
                CREATE INDEX fanout_by_order ON fanout (order_id);
                ALTER TABLE orders ADD COLUMN region TEXT;
                ALTER TABLE orders ADD COLUMN carrier TEXT;
                UPDATE orders SET region = json_extract(CAST(doc AS TEXT), '$.shipping.region'),
                    carrier = COALESCE(json_extract(CAST(doc AS TEXT), '$.tracking.carrier'),
                                       json_extract(CAST(doc AS TEXT), '$.shipping.carrier'));
                CREATE INDEX orders_open_by_region ON orders (region COLLATE NOCASE)
                    WHERE status IN ('placed', 'delayed', 'shipped', 'out_for_delivery');
                CREATE INDEX orders_open_by_carrier ON orders (carrier COLLATE NOCASE)
                    WHERE status IN ('placed', 'delayed', 'shipped', 'out_for_delivery');
                -- The simulated time of `clock.source: database` (demos and rehearsals).
                CREATE TABLE clock (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    now REAL NOT NULL
                );
                """)
            try Store.scheduleExistingDeadlines(db)
        }
        migrator.registerMigration("v4: unsent messages by subject") { db in
            // A new order status suppresses the unsent ones about the same order. Without this
            // the pipeline scanned every unsent message per event: quadratic in a backlog.
            try db.execute(sql: """
                CREATE INDEX messages_unsent_by_subject ON messages (subject_id, category) WHERE state IN ('pending', 'retrying');
                """)
        }
        migrator.registerMigration("v5: held events, parked messages, claim owners, clock acknowledgement") { db in
            try db.execute(sql: """
                -- Events the pipeline set aside, so that one event never stops the others:
                -- 'quarantined' when it could not apply them, 'waiting' when they are about an
                -- order or ticket that does not exist yet (`waiting_for`, such as order:o-1).
                -- `scope` names the order of a disruption's fan-out; '' for the event itself.
                CREATE TABLE held_events (
                    position INTEGER NOT NULL,
                    scope TEXT NOT NULL DEFAULT '',
                    kind TEXT NOT NULL,
                    waiting_for TEXT,
                    reason TEXT NOT NULL,
                    held_at REAL NOT NULL,
                    expires_at REAL,
                    attempts INTEGER NOT NULL DEFAULT 1,
                    retry_requested INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (position, scope)
                ) WITHOUT ROWID;
                CREATE INDEX held_events_by_entity ON held_events (waiting_for) WHERE waiting_for IS NOT NULL;
                CREATE INDEX held_events_retry ON held_events (position) WHERE retry_requested = 1;
                -- Messages parked until their customer is known, by when the wait ends.
                CREATE INDEX messages_parked ON messages (due_at) WHERE state = 'parked';
                -- What was said about an order or ticket: delay alerts look here before they
                -- are skipped as redundant, and the API lists it.
                CREATE INDEX messages_by_subject ON messages (subject_id, workflow);
                -- The dispatcher (one per daemon run) that holds a claim: a live daemon never
                -- takes back its own sends, whatever its clock does; leases are for dead ones.
                ALTER TABLE messages ADD COLUMN claimed_by TEXT;
                -- The simulated time the running daemon has taken up (`tidings clock set` waits).
                ALTER TABLE clock ADD COLUMN applied REAL;
                """)
        }
        migrator.registerMigration("v6: staged appends") { db in
            try db.execute(sql: """
                -- A `tidings append` writes its events in short transactions, so HTTP ingest is
                -- never held behind it, but nobody reads them (nor anything after its first
                -- one) until it finishes: then its row here goes, and they appear at once. If
                -- it fails or dies, its events are deleted (never seen, never acknowledged).
                CREATE TABLE appends (
                    id TEXT PRIMARY KEY,
                    first_position INTEGER NOT NULL,
                    started_at REAL NOT NULL
                );
                ALTER TABLE events ADD COLUMN append_id TEXT;
                CREATE INDEX events_by_append ON events (append_id) WHERE append_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v7: claim priority") { db in
            // The priorities are `ClaimPriority`'s, written out (a test holds them to it):
            // acknowledgements and what a deadline caused first, follow-ups last.
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
                UPDATE messages SET priority = 0 WHERE category = 'acknowledgement' OR event_position IN (
                    SELECT position FROM events WHERE type IN ('order.dispatch_overdue', 'order.delivery_overdue',
                        'ticket.response_overdue', 'ticket.resolution_due_soon', 'ticket.resolution_overdue'));
                UPDATE messages SET priority = 2 WHERE category = 'follow_up' AND priority = 1;
                DROP INDEX messages_claimable;
                CREATE INDEX messages_claimable_by_priority ON messages (channel, priority, due_at) WHERE state IN ('pending', 'retrying');
                """)
        }
        migrator.registerMigration("v8: claims released unsent") { db in
            // The state a claim took a message from, so a claim the dispatcher gives back
            // unsent (claimed ahead, then shut down) restores it exactly.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN claimed_from TEXT")
        }
        migrator.registerMigration("v9: personal data sealed per customer, forgotten customers") { db in
            try db.execute(sql: """
                -- One key per customer; `tidings forget` deletes it, and what it sealed in the
                -- log can never be read again.
                CREATE TABLE customer_keys (
                    customer_id TEXT PRIMARY KEY,
                    key BLOB NOT NULL,
                    created_at REAL NOT NULL
                ) WITHOUT ROWID;
                -- Whose key seals an event's personal fields (`PersonalData`); NULL for none.
                ALTER TABLE events ADD COLUMN sealed_for TEXT;
                -- The customers forgotten, and their orders and tickets (`customer:c-1`,
                -- `order:o-1`): new events about any of them are refused.
                CREATE TABLE forgotten (
                    entity TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    forgotten_at REAL NOT NULL
                ) WITHOUT ROWID;
                """)
            // Events stored before sealing existed are sealed now, once: otherwise forgetting
            // their customer would leave their plaintext in the log.
            try Store.sealStoredEvents(db, now: Date())
            // A new database has had `secure_delete` from its first page: nothing to wipe later.
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") == 0 {
                try Store.setCheckpoint(db, Store.freePagesZeroed, 1)
            }
        }
        migrator.registerMigration("v10: message contents erased") { db in
            // When a message's context was dropped: by `tidings forget`, or by `outbox.retention`
            // once it had ended long enough ago. A dry run cannot compare what is gone.
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN erased_at REAL;
                -- What the retention sweep still has to look at, oldest first (the states are
                -- `Retention.endedStates`, written out; a test holds them to it).
                CREATE INDEX messages_retained ON messages (updated_at)
                    WHERE erased_at IS NULL AND state IN ('sent', 'suppressed', 'skipped');
                -- Claims a forget took back from a running dispatcher: almost always none.
                CREATE INDEX messages_withdrawn ON messages (claimed_by) WHERE claimed_from = 'withdrawn';
                """)
        }
        migrator.registerMigration("v11: delivery receipts, suppressed addresses") { db in
            try db.execute(sql: """
                -- How many addresses the customer has suppressed (the list is in the document).
                ALTER TABLE customers ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX customers_suppressed ON customers (id) WHERE suppressed > 0;
                -- What providers reported after accepting a message, one row per receipt event.
                CREATE TABLE message_receipts (
                    message_id INTEGER NOT NULL REFERENCES messages (id),
                    event_position INTEGER NOT NULL,
                    at REAL NOT NULL,
                    channel TEXT NOT NULL,
                    status TEXT NOT NULL,
                    kind TEXT,
                    provider TEXT NOT NULL,
                    detail TEXT,
                    PRIMARY KEY (message_id, event_position)
                ) WITHOUT ROWID;
                -- Delivered and bounced messages have ended too (`Retention.endedStates`).
                DROP INDEX messages_retained;
                CREATE INDEX messages_retained ON messages (updated_at)
                    WHERE erased_at IS NULL AND state IN ('sent', 'delivered', 'bounced', 'suppressed', 'skipped');
                -- The orders a message about several of them names (a disruption's): it is a
                -- delay notice to each, and listed with each.
                CREATE TABLE message_subjects (
                    subject_id TEXT NOT NULL,
                    message_id INTEGER NOT NULL REFERENCES messages (id),
                    PRIMARY KEY (subject_id, message_id)
                ) WITHOUT ROWID;
                -- Messenger receipts name the recipient and a time, not a message.
                CREATE INDEX messages_by_recipient ON messages (recipient, channel) WHERE state = 'sent';
                """)
        }
        migrator.registerMigration("v12: one index by state") { db in
            // Every index on `messages` is written on each insert and state change, the
            // pipeline's costliest statement. `messages_due` (channel, state, due_at) and
            // `messages_by_state` (state) served the same lookups (claims have a partial index
            // of their own); one index by state, channel and due time serves them all and
            // covers the status counts.
            try db.execute(sql: """
                DROP INDEX messages_due;
                DROP INDEX messages_by_state;
                CREATE INDEX messages_by_state ON messages (state, channel, due_at);
                """)
        }
        migrator.registerMigration("v13: operator actions") { db in
            // Retries and enables done by hand, written with their effect (`OperatorAction`).
            try db.execute(sql: """
                CREATE TABLE operator_actions (
                    id INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    via TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    affected INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v14: contexts beside the messages") { db in
            // A message's row changes at every claim and result; its template context (about
            // 1 KB) never does. Kept in the row, it was copied and written to the log with each
            // change: a claim and a result cost about a quarter more (BENCHMARKS.md).
            try db.execute(sql: """
                CREATE TABLE message_contexts (
                    message_id INTEGER PRIMARY KEY REFERENCES messages (id),
                    context BLOB NOT NULL
                );
                INSERT INTO message_contexts (message_id, context) SELECT id, context FROM messages;
                ALTER TABLE messages DROP COLUMN context;
                """)
        }
        migrator.registerMigration("v15: partial index conditions as comparisons") { db in
            // The conditions as comparisons joined by OR (`sqlAnyOf` says why): 2.3 µs less a
            // new message and 6.6 µs an order's update. Written out, as `Retention.endedStates`
            // and `DisruptionScope.statuses` stand now: the queries are built from those lists,
            // and a test holds the two together, so a change to a list needs a migration.
            try db.execute(sql: """
                DROP INDEX messages_retained;
                CREATE INDEX messages_retained ON messages (updated_at)
                    WHERE erased_at IS NULL AND (state = 'sent' OR state = 'delivered' OR state = 'bounced' OR state = 'suppressed' OR state = 'skipped');
                DROP INDEX orders_open_by_region;
                CREATE INDEX orders_open_by_region ON orders (region COLLATE NOCASE)
                    WHERE (status = 'placed' OR status = 'delayed' OR status = 'shipped' OR status = 'out_for_delivery');
                DROP INDEX orders_open_by_carrier;
                CREATE INDEX orders_open_by_carrier ON orders (carrier COLLATE NOCASE)
                    WHERE (status = 'placed' OR status = 'delayed' OR status = 'shipped' OR status = 'out_for_delivery');
                """)
        }
        migrator.registerMigration("v16: messenger receipts' index on messenger messages only") { db in
            // Only messenger receipts look messages up by recipient (`messengerSent`), but every
            // sent SMS and email entered the index as well: one more page written, at a random
            // place, for each message sent (BENCHMARKS.md, "Fewer pages a message").
            try db.execute(sql: """
                DROP INDEX messages_by_recipient;
                CREATE INDEX messages_sent_by_messenger ON messages (recipient)
                    WHERE state = 'sent' AND channel = 'messenger';
                """)
        }
        return migrator
    }

}
