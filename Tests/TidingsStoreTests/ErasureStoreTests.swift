import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// The store's side of erasure: sealing on append and in the migration, opening on read.
@Suite("Store: sealed personal data")
struct ErasureStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-erasure-store-\(UUID().uuidString)")
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let registered = CloudEvent(id: "e-1", source: "urn:test", type: "customer.registered", subject: "c-1", time: nil,
                                data: ["name": "Zelda Quux", "email": "zelda@example.com", "locale": "en"])

    func store() throws -> Store { try Store(path: directory.appendingPathComponent("t.sqlite").path) }

    func body(_ store: Store, _ position: Int64) throws -> String {
        try store.pool.read { db in
            String(decoding: try Data.fetchOne(db, sql: "SELECT body FROM events WHERE position = ?", arguments: [position]) ?? Data(), as: UTF8.self)
        }
    }

    @Test func appendedEventsAreStoredSealedAndReadOpened() throws {
        let store = try store()
        let position = try #require(try store.append([registered], now: now).positions.first)
        #expect(!(try body(store, position)).contains("zelda"))
        #expect(try store.events(after: 0, limit: 10).first?.event.data["email"] == "zelda@example.com")
    }

    /// Events stored before sealing existed are sealed by the migration, and still read.
    @Test func theMigrationSealsWhatWasStoredInTheClear() throws {
        let store = try store()
        try store.pool.write { db in
            // Five in the clear, sealed two at a time.
            for index in 1...5 {
                var event = registered
                event.raw["id"] = .string("old-\(index)")
                try db.execute(sql: """
                    INSERT INTO events (source, id, type, subject, recorded_at, body) VALUES ('urn:test', ?, 'customer.registered', 'c-1', 0, ?)
                    """, arguments: ["old-\(index)", try event.raw.encoded()])
            }
            try Store.sealStoredEvents(db, now: now, page: 2)
        }
        for position in 1...5 { #expect(!(try body(store, Int64(position))).contains("zelda")) }
        #expect(try store.events(after: 0, limit: 10).allSatisfy { $0.event.data["name"] == "Zelda Quux" })
        _ = try store.forget(customerID: "c-1", eventID: "f-1", now: now)
        let forgotten = try #require(try store.events(after: 0, limit: 10).first?.event)
        #expect(forgotten.data["name"] == nil && forgotten.data["locale"] == "en")
    }

    /// A send in flight when its customer is forgotten is recorded (sent, after all) without
    /// the address or the server's answer; one that failed for now is not tried again.
    @Test func aSendInFlightIsRecordedWithoutTheAddress() throws {
        let fixtures = StoreTests()
        let store = try fixtures.store()
        _ = try store.append(fixtures.day, now: fixtures.now)
        _ = try store.processBatch(limit: 100, engine: fixtures.engine, now: fixtures.now)
        let email = try store.claim(channel: .email, limit: 10, now: fixtures.now, lease: 60, owner: "d1")
        let sms = try store.claim(channel: .sms, limit: 10, now: fixtures.now, lease: 60, owner: "d1")
        #expect(email.count == 1 && sms.count == 1)
        let summary = try store.forget(customerID: "c-1", eventID: "f-1", now: fixtures.now)
        #expect(summary.unsent == 2, "in flight counts as not sent until the dispatcher says otherwise")
        try store.record([fixtures.settle(try #require(email.first), .sent(detail: "250 ok for ann@example.com"), at: fixtures.now),
                          fixtures.settle(try #require(sms.first), .transient(reason: "busy: +447700900123"), at: fixtures.now)], now: fixtures.now)
        let messages = try store.messages()
        #expect(messages.first { $0.channel == "email" }?.state == .sent)
        #expect(messages.first { $0.channel == "sms" }?.state == .skipped)
        #expect(messages.allSatisfy { $0.recipient == PersonalData.erasedRecipient })
        let leftovers = try store.pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT COALESCE(recipient, '') || fallback || COALESCE(last_error, '') FROM messages
                UNION ALL SELECT COALESCE(detail, '') FROM message_attempts
                UNION ALL SELECT CAST(context AS TEXT) FROM message_contexts
                """)
        }
        #expect(!leftovers.contains { $0.contains("ann@example.com") || $0.contains("447700900123") }, "\(leftovers)")
        // Nor anywhere in the file, once the log is copied back: what was overwritten was wiped.
        try #require(try store.truncateLog())
        let file = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect(file.firstRange(of: Data("ann@example.com".utf8)) == nil)
        #expect(try store.claim(channel: .sms, limit: 10, now: fixtures.now.addingTimeInterval(86_400), lease: 60, owner: "d2").isEmpty)
    }

    /// A claim held by a running dispatcher is taken back once (it drops it unsent), a dead
    /// message of the customer is not retried, and an event stored before the forget that
    /// comes again is "already stored", not a refusal of its whole batch.
    @Test func aForgetWithdrawsClaimsAndRetriesAndLetsRepeatsThrough() throws {
        let fixtures = StoreTests()
        let store = try fixtures.store()
        _ = try store.append(fixtures.day, now: fixtures.now)
        _ = try store.processBatch(limit: 100, engine: fixtures.engine, now: fixtures.now)
        let email = try #require(try store.claim(channel: .email, limit: 10, now: fixtures.now, lease: 60, owner: "d1").first)
        let sms = try #require(try store.claim(channel: .sms, limit: 10, now: fixtures.now, lease: 60, owner: "d1").first)
        try store.pool.write { db in
            try db.execute(sql: "UPDATE messages SET state = 'dead', claimed_by = NULL, lease_until = NULL WHERE id = ?", arguments: [sms.id])
        }
        _ = try store.forget(customerID: "c-1", eventID: "f-1", now: fixtures.now)

        let claim = try store.settleAndClaim([], room: [:], now: fixtures.now, lease: 60, owner: "d1")
        #expect(claim.withdrawn == [email.id])
        #expect(try store.settleAndClaim([], room: [:], now: fixtures.now, lease: 60, owner: "d1").withdrawn.isEmpty, "once")
        #expect(try store.retry(messageID: nil, now: fixtures.now, by: OperatorAction.Actor(via: .cli, name: "test")) == 0, "nothing is left to send")

        let again = try store.append([try #require(fixtures.day.first)], now: fixtures.now)
        #expect(again.refusal == nil && again.alreadyStored == 1)
        let new = fixtures.event("order.shipped", "o-1", [:], id: "late-1")
        #expect(try store.append([new], now: fixtures.now).refusal != nil)
    }

    /// An event of the customer quarantined before the forget, retried after it, would bring
    /// back what the forget took away: it stays quarantined, saying why.
    @Test func aQuarantinedEventOfAForgottenCustomerIsNotAppliedOnRetry() throws {
        let fixtures = StoreTests()
        let store = try fixtures.store()
        _ = try store.append(fixtures.day, now: fixtures.now)
        let good = try store.pool.read { db in try Data.fetchOne(db, sql: "SELECT body FROM events WHERE position = 2") }
        try store.pool.write { db in try db.execute(sql: "UPDATE events SET body = CAST('null' AS BLOB) WHERE position = 2") }
        #expect(try store.processBatch(limit: 100, engine: fixtures.engine, now: fixtures.now).quarantined.map(\.key.position) == [2])
        _ = try store.forget(customerID: "c-1", eventID: "f-1", now: fixtures.now)
        _ = try store.processBatch(limit: 100, engine: fixtures.engine, now: fixtures.now)
        try store.pool.write { db in try db.execute(sql: "UPDATE events SET body = ? WHERE position = 2", arguments: [good]) }
        #expect(try store.requestRetry(position: 2) == 1)
        let outcome = try store.retryRequested(engine: fixtures.engine, now: fixtures.now)
        #expect(outcome.first?.failure?.contains("customer c-1 was forgotten") == true, "\(outcome)")
        #expect(try store.order(id: "o-1") == nil)
    }
}
