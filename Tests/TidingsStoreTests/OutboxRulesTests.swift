import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// One table of situations through both the pure state machine and the store: for every state
/// a message can be in, whether it is claimed, retried by an operator, or made stale by a later
/// status must come out the same, so the SQL cannot drift from the rules it is built from.
@Suite("Outbox rules: the state machine and the store agree")
struct OutboxRulesTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-rules-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    var engine: WorkflowEngine {
        WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "shipped", on: "order.shipped", category: .orderStatus, channels: [.fixed(.email)], template: "shipped"),
            Workflow(id: "delivered", on: "order.delivered", category: .orderStatus, channels: [.fixed(.email)], template: "delivered"),
        ]), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
    }

    struct Situation: CustomStringConvertible {
        var state: MessageState
        var due: Bool
        var leaseRunOut: Bool

        var description: String { "\(state.rawValue), \(due ? "due" : "not due"), lease \(leaseRunOut ? "run out" : "running")" }
    }

    static let situations: [Situation] = MessageState.allCases.flatMap { state in
        [false, true].flatMap { due in [false, true].map { Situation(state: state, due: due, leaseRunOut: $0) } }
    }

    /// A store holding one shipped notice, put into the situation.
    func store(_ situation: Situation, _ name: String) throws -> (Store, Int64) {
        let store = try Store(path: directory.appendingPathComponent("\(name).sqlite").path, durability: .normal)
        _ = try store.append([
            CloudEvent(id: "c", source: "urn:t", type: "customer.registered", subject: "c-1", time: now, data: ["email": "a@example.com"]),
            CloudEvent(id: "o", source: "urn:t", type: "order.placed", subject: "o-1", time: now, data: [
                "customer_id": "c-1", "total": 1, "currency": "EUR", "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 1]]]),
            CloudEvent(id: "s", source: "urn:t", type: "order.shipped", subject: "o-1", time: now, data: [:]),
        ], now: now)
        _ = try store.processBatch(limit: 10, engine: engine, now: now)
        let id = try #require(try store.messages().first?.id)
        try store.pool.write { db in
            try db.execute(sql: "UPDATE messages SET state = ?, due_at = ?, lease_until = ?, claimed_by = 'a dead daemon' WHERE id = ?",
                           arguments: [situation.state.rawValue, now.addingTimeInterval(situation.due ? -1 : 60).timeIntervalSince1970,
                                       now.addingTimeInterval(situation.leaseRunOut ? -1 : 60).timeIntervalSince1970, id])
        }
        return (store, id)
    }

    func progress(_ situation: Situation) -> DeliveryProgress {
        DeliveryProgress(state: situation.state, route: Route(channel: .email, recipient: "a@example.com"), fallbacks: [], attempts: 1,
                         dueAt: now.addingTimeInterval(situation.due ? -1 : 60), leaseUntil: now.addingTimeInterval(situation.leaseRunOut ? -1 : 60))
    }

    @Test(arguments: situations)
    func claimsRetriesAndStalenessAgree(situation: Situation) throws {
        let (claiming, _) = try store(situation, "claim-\(situation.state)-\(situation.due)-\(situation.leaseRunOut)")
        let claimed = try claiming.claim(channel: .email, limit: 10, now: now, lease: 60, owner: "me")
        #expect(!claimed.isEmpty == OutboxStateMachine.isClaimable(progress(situation), now: now), "claim: \(situation)")

        let (retrying, id) = try store(situation, "retry-\(situation.state)-\(situation.due)-\(situation.leaseRunOut)")
        #expect((try retrying.retry(messageID: id, now: now, by: OperatorAction.Actor(via: .cli, name: "test")) == 1) == (OutboxStateMachine.retry(progress(situation), now: now) != nil),
                "retry: \(situation)")

        let (stale, staleID) = try store(situation, "stale-\(situation.state)-\(situation.due)-\(situation.leaseRunOut)")
        _ = try stale.append([CloudEvent(id: "d", source: "urn:t", type: "order.delivered", subject: "o-1", time: now, data: [:])], now: now)
        _ = try stale.processBatch(limit: 10, engine: engine, now: now)
        let suppressed = try stale.message(id: staleID)?.state == .suppressed && situation.state != .suppressed
        #expect(suppressed == (OutboxStateMachine.suppress(progress(situation), reason: "x") != nil && situation.state != .suppressed),
                "staleness: \(situation)")
    }

    /// The partial indexes were created by migrations with the lists written out; the queries
    /// that must use them are built from Core's definitions. The two must stay the same text.
    @Test func thePartialIndexesSayWhatCoreDefines() throws {
        let store = try Store(path: directory.appendingPathComponent("schema.sqlite").path, durability: .normal)
        let indexes = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'")
                .reduce(into: [String: String]()) { $0[$1["name"]] = $1["sql"] }
        }
        for name in ["messages_claimable_by_priority", "messages_unsent_by_subject"] {
            #expect(indexes[name]?.contains("state IN \(MessageState.unsent.sqlList)") == true, "\(name): \(indexes[name] ?? "missing")")
        }
        for name in ["orders_open_by_region", "orders_open_by_carrier"] {
            #expect(indexes[name]?.contains("WHERE \(DisruptionScope.statuses.sqlAnyOf("status"))") == true, "\(name): \(indexes[name] ?? "missing")")
        }
        #expect(indexes["messages_parked"]?.contains("state = \(MessageState.parked.sqlLiteral)") == true)
        #expect(indexes["messages_retained"]?.contains("AND \(Retention.endedStates.sqlAnyOf("state"))") == true, "\(indexes["messages_retained"] ?? "missing")")
        #expect(indexes["messages_withdrawn"]?.contains("claimed_from = '\(Store.withdrawnMark)'") == true)
        #expect(indexes["messages_sent_by_messenger"]?.contains(
            "WHERE state = \(MessageState.sent.sqlLiteral) AND channel = '\(Channel.messenger.rawValue)'") == true)
        // No IN list of three or more in a partial index: SQLite would build a table for it on
        // every insert and update (`sqlAnyOf`).
        for (name, sql) in indexes {
            let lists = sql.split(separator: " IN (").dropFirst().map { $0.prefix { $0 != ")" }.split(separator: ",").count }
            #expect(lists.allSatisfy { $0 < 3 }, "\(name): \(sql)")
        }
    }

    /// The disruption's query finds its orders through the partial indexes on open orders,
    /// whose condition it must state in the same words.
    @Test func aDisruptionFindsItsOrdersThroughTheOpenOrdersIndexes() throws {
        let store = try Store(path: directory.appendingPathComponent("plan.sqlite").path, durability: .normal)
        let scopes: [(JSONValue, String)] = [
            (["region": "North"], "orders_open_by_region"), (["carrier": "DHL"], "orders_open_by_carrier"),
            (["region": "North", "carrier": "DHL"], "orders_open_by_"),
        ]
        for (data, index) in scopes {
            let scope = try #require(DisruptionScope(data))
            let (sql, arguments) = Store.affectedOrders(scope)
            let plan = try store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }.joined(separator: "; ")
            }
            #expect(plan.contains("USING INDEX \(index)"), "\(data): \(plan)")
        }
    }

    /// A messenger receipt finds the messages it confirms through the one index that holds
    /// sent messenger messages only (sent SMS and email stay out of it).
    @Test func aMessengerReceiptFindsItsMessagesThroughTheirOwnIndex() throws {
        let store = try Store(path: directory.appendingPathComponent("messenger.sqlite").path, durability: .normal)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.messengerSentSQL, arguments: ["psid-1", 0, 10])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("USING INDEX messages_sent_by_messenger"), "\(plan)")
    }

    /// A delay alert held back by a recent notice asks whether that notice went out: the lookup
    /// starts from the order's own messages, never from every message in a state (which grows
    /// with the outbox, and took 1.8 ms a lookup at 20,000 sent messages).
    @Test func theDelayNoticeLookupStartsFromTheOrdersMessages() throws {
        let store = try Store(path: directory.appendingPathComponent("told.sqlite").path, durability: .normal)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + OutboxWriter.toldAboutDelaySQL(workflows: 2), arguments: ["o-1", "a", "b", 0, "k"])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("SEARCH m USING INTEGER PRIMARY KEY"), "\(plan)")
        #expect(!plan.contains("messages_by_state"), "\(plan)")
    }

    /// The outbox counts behind `/metrics`, `/readyz` and `tidings status` run on every scrape:
    /// they count along an index, never sorting every message first.
    @Test func theOutboxCountsReadAlongTheirIndex() throws {
        let store = try Store(path: directory.appendingPathComponent("counts.sqlite").path, durability: .normal)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.outboxCounts).map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("USING COVERING INDEX messages_by_state"), "\(plan)")
        #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
    }

    /// Messages written before priorities existed get the priority `ClaimPriority` gives them
    /// now: the migration's written-out lists must say the same as Core.
    @Test func theMigrationGivesOlderMessagesCorePriorities() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("v6.sqlite").path)
        try Schema.migrator.migrate(queue, upTo: "v6: staged appends")
        let types = Deadlines.types.sorted() + ["order.placed", "ticket.opened", "ticket.resolved", "order.shipped"]
        var expected: [Int64: ClaimPriority] = [:]
        try queue.write { db in
            for (t, type) in types.enumerated() {
                try db.execute(sql: "INSERT INTO events (position, source, id, type, subject, recorded_at, body) VALUES (?, 'urn:t', ?, ?, 's', 0, x'7b7d')",
                               arguments: [t + 1, "e\(t)", type])
                for category in Workflow.Category.allCases {
                    try db.execute(sql: """
                        INSERT INTO messages (key, workflow, category, customer_id, event_position, template, locale, context, state,
                            created_at, due_at, updated_at) VALUES (?, 'w', ?, 'c', ?, 't', 'en', x'7b7d', 'pending', 0, 0, 0)
                        """, arguments: ["\(type)/\(category.rawValue)", category.rawValue, t + 1])
                    expected[db.lastInsertedRowID] = ClaimPriority(category: category, eventType: type)
                }
            }
        }
        try Schema.migrator.migrate(queue)
        let stored = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, priority FROM messages").reduce(into: [Int64: ClaimPriority]()) {
                $0[$1["id"]] = ClaimPriority(rawValue: $1["priority"])
            }
        }
        #expect(stored == expected)
    }

    /// Messages written when contexts were kept in their rows keep them, in `message_contexts`,
    /// and a claim still renders from them.
    @Test func theMigrationMovesContextsBesideTheirMessages() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("v13.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v13: operator actions")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO events (position, source, id, type, subject, recorded_at, body) VALUES (1, 'urn:t', 'e', 'ticket.opened', 's', 0, x'7b7d')")
            for n in 1...3 {
                try db.execute(sql: """
                    INSERT INTO messages (key, workflow, category, customer_id, event_position, channel, recipient, template, locale, context,
                        state, created_at, due_at, updated_at) VALUES (?, 'w', 'acknowledgement', 'c', 1, 'email', 'a@example.com', 't', 'en', ?,
                        'pending', 0, 0, 0)
                    """, arguments: ["k\(n)", Data(#"{"n":\#(n)}"#.utf8)])
            }
        }
        try queue.close()
        let store = try Store(path: path, durability: .normal)
        let claimed = try store.claim(channel: .email, limit: 10, now: Date(timeIntervalSince1970: 1), lease: 60, owner: "d")
        #expect(claimed.map(\.key) == ["k1", "k2", "k3"])
        #expect(claimed.map { $0.parsedContext()["n"] } == [.number(1), .number(2), .number(3)])
        let columns = try store.pool.read { db in try db.columns(in: "messages").map(\.name) }
        #expect(!columns.contains("context"))
    }

    /// A claim's rows are read by position; the names come from the cases, and each must be
    /// a column of `messages` (a wrong one fails every claim), but the context, which is read
    /// from `message_contexts`.
    @Test func theClaimReturnsColumnsOfTheTable() throws {
        let names = Store.Claimed.allCases.filter { $0 != .context }.map(\.column)
        #expect(names.contains("customer_id") && names.contains("route_started_at") && names.contains("id"))
        #expect(Store.Claimed.context.column == Store.contextOfTheMessage)
        let store = try Store(path: directory.appendingPathComponent("claimed.sqlite").path, durability: .normal)
        let columns = try store.pool.read { db in try db.columns(in: "messages").map(\.name) }
        #expect(Set(names).isSubset(of: Set(columns)), "\(Set(names).subtracting(columns))")
        #expect(!columns.contains("context"))
    }
}
