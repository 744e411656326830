import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing
import TidingsTestSupport
import TidingsCore
import TidingsDelivery
@testable import TidingsPostgres

/// The outbox on PostgreSQL: claims by priority, under leases, never the same message to two
/// dispatchers; results recorded with their history; claims given back as if never taken.
@Suite("PostgreSQL: the outbox", .timeLimit(.minutes(5)))
struct PostgresOutboxTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// `count` acknowledgement emails of customer c-1, due at `now` (priority as given).
    static func insert(_ database: PostgresBackend, count: Int, from first: Int = 0, channel: TidingsCore.Channel = .email,
                       priority: ClaimPriority = .first, due: Date) async throws {
        let keys = (first..<(first + count)).map { "ack-\($0)" }
        let context = ByteBuffer(bytes: try JSONValue.object([:]).encoded())
        try await database.transaction("inserting test messages") { connection in
            try await connection.query("""
                INSERT INTO messages (key, workflow, category, customer_id, subject_id, event_position, channel, recipient, template, locale,
                    context, state, created_at, due_at, updated_at, priority)
                SELECT k, 'ack', 'acknowledgement', 'c-1', k, 1, \(channel.rawValue), 'a@example.com', 'ack', 'en', \(context),
                    \(MessageState.pending.rawValue), \(due.timeIntervalSince1970), \(due.timeIntervalSince1970),
                    \(due.timeIntervalSince1970), \(priority.rawValue)
                FROM unnest(\(keys)::text[]) AS k
                """, logger: database.logger)
        }
    }

    static func states(_ database: PostgresBackend) async throws -> [String: Int] {
        try await database.connection("counting states") { connection in
            var states: [String: Int] = [:]
            for try await (state, count) in try await connection.query("SELECT state, COUNT(*) FROM messages GROUP BY state", logger: database.logger)
                .decode((String, Int64).self) { states[state] = Int(count) }
            return states
        }
    }

    @Test func twoDispatchersClaimingAtOnceNeverTakeTheSameMessage() async throws {
        try await PostgresTestCluster.withDatabase { database in
            try await Self.insert(database, count: 600, due: now)
            let outbox = PostgresOutbox(backend: database)
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for owner in ["a", "b", "c"] {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let claim = try await outbox.settleAndClaim([], releasing: [], room: [.email: 25], endpoints: [:], now: now, lease: 60,
                                                                        owner: owner)
                            if claim.messages.isEmpty { return mine }
                            mine += claim.messages.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == 600 && Set(all).count == 600)
            #expect(claims.allSatisfy { !$0.isEmpty })
            #expect(try await Self.states(database) == ["sending": 600])
        }
    }

    @Test func firstPriorityGoesFirstAndLeasesAreTakenOverOnlyByOthers() async throws {
        try await PostgresTestCluster.withDatabase { database in
            try await Self.insert(database, count: 3, priority: .normal, due: now.addingTimeInterval(-60))
            try await Self.insert(database, count: 2, from: 3, priority: .first, due: now)
            let outbox = PostgresOutbox(backend: database)
            let first = try await outbox.settleAndClaim([], releasing: [], room: [.email: 2], endpoints: [:], now: now, lease: 30, owner: "a")
            #expect(first.messages.map(\.key).sorted() == ["ack-3", "ack-4"])
            // After the lease: the same run never takes its own claims again; another run does.
            let later = now.addingTimeInterval(31)
            let own = try await outbox.settleAndClaim([], releasing: [], room: [.email: 10], endpoints: [:], now: later, lease: 30, owner: "a")
            #expect(own.messages.map(\.key).sorted() == ["ack-0", "ack-1", "ack-2"])
            let taken = try await outbox.settleAndClaim([], releasing: [], room: [.email: 10], endpoints: [:], now: later, lease: 30, owner: "b")
            #expect(taken.messages.map(\.key).sorted() == ["ack-3", "ack-4"])
            #expect(taken.messages.allSatisfy { $0.totalAttempts == 2 })
        }
    }

    @Test func resultsAreRecordedAndUnsentClaimsGivenBack() async throws {
        try await PostgresTestCluster.withDatabase { database in
            try await Self.insert(database, count: 3, due: now)
            let outbox = PostgresOutbox(backend: database)
            let claim = try await outbox.settleAndClaim([], releasing: [], room: [.email: 3], endpoints: [:], now: now, lease: 60, owner: "a")
            let messages = claim.messages.sorted { $0.key < $1.key }
            #expect(messages.count == 3 && messages[1].threadRoot == nil)
            var sent = messages[0].progress
            sent.state = .sent
            var retrying = messages[1].progress
            retrying.state = .retrying
            retrying.lastError = "421 try later"
            retrying.dueAt = now.addingTimeInterval(300)
            let records = [DeliveryRecord(message: messages[0], outcome: .sent(detail: "250 ok"), next: sent),
                           DeliveryRecord(message: messages[1], outcome: .transient(reason: "421 try later"), next: retrying)]
            let next = try await outbox.settleAndClaim(records, releasing: [messages[2].id], room: [.email: 3], endpoints: [:],
                                                       now: now.addingTimeInterval(1), lease: 60, owner: "a")
            // The one given back is due again at once, and claimed again as its first attempt.
            #expect(next.messages.map(\.key) == ["ack-2"] && next.messages.first?.totalAttempts == 1)
            #expect(try await Self.states(database) == ["sent": 1, "retrying": 1, "sending": 1])
            let history = try await database.connection("reading the history") { connection in
                var rows: [String] = []
                for try await (key, attempt, outcome, detail) in try await connection.query("""
                    SELECT m.key, a.attempt, a.outcome, a.detail FROM message_attempts a JOIN messages m ON m.id = a.message_id ORDER BY m.key
                    """, logger: database.logger).decode((String, Int64, String, String?).self) { rows.append("\(key) \(attempt) \(outcome) \(detail ?? "-")") }
                return rows
            }
            #expect(history == ["ack-0 1 sent 250 ok", "ack-1 1 transient 421 try later"])
            // As `tidings deliveries show` reads it, with a receipt that came after.
            try await database.transaction("a receipt") { connection in
                try await connection.query("""
                    INSERT INTO message_receipts (message_id, event_position, at, channel, status, kind, provider, detail)
                    VALUES (\(messages[0].id), 9, \(now.addingTimeInterval(5).timeIntervalSince1970), 'email', 'delivered', NULL, 'postmark', NULL)
                    """, logger: database.logger)
            }
            let shown = try await PostgresReads(backend: database).attempts(messageID: messages[0].id)
            #expect(shown.map { "\($0.attempt) \($0.channel) \($0.outcome) \($0.detail ?? "-")" }
                    == ["1 email sent 250 ok", "1 email receipt: delivered postmark"])
        }
    }

    /// `outbox.retention`: what ended messages said goes once they ended long enough ago, in
    /// chunks, once; a message that may still be sent keeps it.
    @Test func retentionDropsTheContentsOfEndedMessagesOnly() async throws {
        try await PostgresTestCluster.withDatabase { database in
            try await Self.insert(database, count: 5, due: now)
            try await database.transaction("ending four") { connection in
                try await connection.query("""
                    UPDATE messages SET state = CASE WHEN key = 'ack-4' THEN 'dead' ELSE 'sent' END, updated_at = \(now.timeIntervalSince1970)
                    """, logger: database.logger)
            }
            let outbox = PostgresOutbox(backend: database)
            #expect(try await outbox.eraseContents(endedBefore: now, limit: 10, now: now).isEmpty)
            let later = now.addingTimeInterval(1)
            let first = try await outbox.eraseContents(endedBefore: later, limit: 3, now: later)
            let second = try await outbox.eraseContents(endedBefore: later, limit: 3, now: later)
            #expect(first.count == 3 && Set(first + second) == ["ack-0", "ack-1", "ack-2", "ack-3"])
            #expect(try await outbox.eraseContents(endedBefore: later, limit: 3, now: later).isEmpty)
            let erased = try await database.connection("reading erased") { connection in
                var keys: [String] = []
                for try await key in try await connection.query("SELECT key FROM messages WHERE erased_at IS NOT NULL ORDER BY key",
                                                                logger: database.logger).decode(String.self) { keys.append(key) }
                return keys
            }
            #expect(erased == ["ack-0", "ack-1", "ack-2", "ack-3"])
        }
    }

    /// Three dispatchers, each with its own pool as three instances would have, send 1,500
    /// emails from one outbox: each exactly once.
    @Test func threeDispatchersSendEveryMessageOnce() async throws {
        try await PostgresTestCluster.withDatabase { database in
            try await Self.insert(database, count: 1_500, due: now)
            let transport = CountingTransport()
            let catalog = try TemplateCatalog(files: ["ack/en/email.subject.mustache": "Hi", "ack/en/email.text.mustache": "Hello",
                                                      "ack/en/email.html.mustache": "<p>Hello</p>"], fallbackLocale: "en")
            let settings = database.settings
            let clock: @Sendable () -> Date = { [now] in now }
            try await withThrowingTaskGroup(of: Void.self) { instances in
                for instance in 0..<3 {
                    instances.addTask {
                        try await PostgresBackend.withRunning(settings) { own in
                            let dispatcher = Dispatcher(
                                queue: PostgresOutbox(backend: own), catalog: catalog,
                                channels: [.email: Dispatcher.ChannelSetup(transport: transport, endpoint: "test", retry: .email,
                                                                           gate: ChannelGate(concurrency: 8))],
                                pollInterval: .milliseconds(20), logger: Logger(label: "instance-\(instance)"), clock: clock)
                            let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: Logger(label: "instance-\(instance)")))
                            try await withThrowingTaskGroup(of: Void.self) { tasks in
                                tasks.addTask { try await group.run() }
                                tasks.addTask {
                                    let deadline = ContinuousClock.now + .seconds(60)
                                    while try await Self.states(own)["sent", default: 0] < 1_500, ContinuousClock.now < deadline {
                                        try await Task.sleep(for: .milliseconds(20))
                                    }
                                    await group.triggerGracefulShutdown()
                                }
                                try await tasks.waitForAll()
                            }
                        }
                    }
                }
                try await instances.waitForAll()
            }
            let sends = transport.sends.withLock { $0 }
            #expect(sends.count == 1_500)
            #expect(sends.values.allSatisfy { $0 == 1 })
            #expect(try await Self.states(database) == ["sent": 1_500])
        }
    }

    final class CountingTransport: Transport, Sendable {
        let sends = Mutex<[String: Int]>([:])

        func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
            sends.withLock { $0[message.key, default: 0] += 1 }
            return .sent(detail: "250 ok")
        }

        func close() {}
    }
}
