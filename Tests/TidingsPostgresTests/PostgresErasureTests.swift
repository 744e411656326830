import Foundation
import Testing
import TidingsTestSupport
import TidingsApp
import TidingsCore
@testable import TidingsPostgres
import TidingsStore

/// `tidings forget` on PostgreSQL against SQLite's: the same erasure (models, timers, outbox
/// contexts and addresses, unsent messages skipped), whether the pipeline had caught up or met
/// the customer's events only after the forget; then their new events are refused.
@Suite("PostgreSQL: forgetting a customer, against SQLite", .timeLimit(.minutes(5)))
struct PostgresErasureTests {
    typealias Pipeline = PostgresPipelineTests

    @Test(arguments: [true, false])
    func aForgetErasesAsOnSQLite(caughtUp: Bool) async throws {
        let runtime = try Pipeline.runtime()
        let events = try Pipeline.day()
        let now = Pipeline.start.addingTimeInterval(3_600)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-forget-\(UUID().uuidString)/t.sqlite").path
        let store = try Store(path: path, durability: .normal)
        _ = try store.append(events, now: Pipeline.start)
        func drainSQLite() throws {
            while try store.processBatch(limit: 7, engine: runtime.engine, now: now, fanoutLimit: 3).processed > 0 {}
        }
        if caughtUp { try drainSQLite() }
        let expected = try store.forget(customerID: "c-1005", eventID: "forget-1", now: now)
        try drainSQLite()
        let expectedOutcome = try Pipeline.outcome(store)
        // What is compared holds the erasure: addresses gone, unsent messages skipped, models gone.
        // (Met only after the forget, the customer's events make no messages at all.)
        #expect(expectedOutcome.messages.contains { $0.contains(PersonalData.erasedRecipient) } == caughtUp)
        #expect(!expectedOutcome.models.contains { $0.contains("c-1005") || $0.contains("o-5005") })
        #expect(expected.orders == 2 && expected.tickets == 1 || !caughtUp, "\(expected)")

        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            let pipeline = PostgresPipeline(log: log)
            _ = try await log.append(batches: [events], now: Pipeline.start)
            func drain() async throws {
                while try await pipeline.processBatch(limit: 7, engine: runtime.engine, now: { now }, fanoutLimit: 3).processed > 0 {}
            }
            if caughtUp { try await drain() }
            let summary = try await PostgresErasure(log: log).forget(customerID: "c-1005", eventID: "forget-1", now: now)
            #expect(summary == expected)
            try await drain()
            Pipeline.expectSame([try await Pipeline.outcome(backend)], [expectedOutcome])

            // Once forgotten: again is refused, and so are their new events.
            await #expect(throws: PostgresBackendError.self) {
                _ = try await PostgresErasure(log: log).forget(customerID: "c-1005", eventID: "forget-2", now: now)
            }
            let later = CloudEvent(id: "late-1", source: "urn:shop", type: "order.shipped", subject: "o-5005", time: now,
                                   data: ["carrier": "DHL", "tracking_number": "T1"])
            let refused = try await log.append(batches: [[later]], now: now)
            #expect(refused.first?.refusal != nil)
        }
    }

    /// A message out with the dispatcher when its customer is forgotten comes back with the
    /// address and the server's answer: erased again, and its spool file named for removal.
    @Test func aMessageOutWhenItsCustomerIsForgottenIsErasedWhenItComesBack() async throws {
        let runtime = try Pipeline.runtime()
        let now = Pipeline.start
        try await PostgresTestCluster.withDatabase { backend in
            let log = PostgresLog(backend: backend)
            _ = try await log.append(batches: [try Pipeline.day()], now: now)
            let pipeline = PostgresPipeline(log: log)
            while try await pipeline.processBatch(limit: 100, engine: runtime.engine, now: { now }, fanoutLimit: 100).processed > 0 {}
            let outbox = PostgresOutbox(backend: backend)
            let claim = try await outbox.settleAndClaim([], releasing: [], room: [.email: 500, .sms: 500], endpoints: [:], now: now, lease: 60,
                                                        owner: "a")
            let out = try #require(claim.messages.first { $0.customerID == "c-1005" })
            _ = try await PostgresErasure(log: log).forget(customerID: "c-1005", eventID: "forget-1", now: now)
            var sent = out.progress
            sent.state = .sent
            let back = try await outbox.settleAndClaim([DeliveryRecord(message: out, outcome: .sent(detail: "250 ok"), next: sent)], releasing: [],
                                                       room: [:], endpoints: [:], now: now, lease: 60, owner: "a")
            #expect(back.erased == [out.channel: [out.key]])
            let row = try await backend.connection("reading it") { connection in
                for try await (state, recipient, detail) in try await connection.query("""
                    SELECT m.state, m.recipient, a.detail FROM messages m JOIN message_attempts a ON a.message_id = m.id WHERE m.id = \(out.id)
                    """, logger: backend.logger).decode((String, String?, String?).self) { return "\(state) \(recipient ?? "-") \(detail ?? "-")" }
                return ""
            }
            #expect(row == "sent \(PersonalData.erasedRecipient) -")
        }
    }
}
