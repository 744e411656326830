import Foundation
import Synchronization
import Testing
import TidingsTestSupport
import TidingsCore
@testable import TidingsPostgres

/// Appends from many connections commit in another order than they took their entries. A
/// reader that follows the log (sequencing, then reading after its checkpoint, as the pipeline
/// does) must see every event exactly once, however late its transaction commits.
@Suite("PostgreSQL: concurrent appends and a reader", .timeLimit(.minutes(5)))
struct PostgresSequencingTests {
    @Test func aReaderSeesEveryEventOnceWhateverOrderTheyCommitIn() async throws {
        try await PostgresTestCluster.withDatabase { database in
            let appenders = 8, transactions = 30, perTransaction = 5
            let done = Atomic<Bool>(false)
            // Each transaction waits a random 0-20 ms before its commit; one in each appender's
            // tenth waits 400 ms, so later entries commit long before it.
            let log = PostgresLog(backend: database, beforeCommit: {
                let late = Int.random(in: 0..<10) == 0
                try await Task.sleep(for: .milliseconds(late ? 400 : Int.random(in: 0...20)))
            })
            let reader = Task {
                var checkpoint: Int64 = 0
                var seen: [String] = []
                var outOfOrder: [String] = []
                while true {
                    let finished = done.load(ordering: .acquiring)
                    try await log.sequence(limit: 40)
                    let page = try await log.events(after: checkpoint, limit: 25).map { try $0.get() }
                    for event in page {
                        if event.position != checkpoint + 1 { outOfOrder.append("\(event.position) after \(checkpoint)") }
                        checkpoint = event.position
                        seen.append(event.event.id)
                    }
                    if page.isEmpty {
                        // The appenders were done before this round began and it found nothing: drained.
                        if finished { break }
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                return (seen, outOfOrder)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        for transaction in 0..<transactions {
                            let events = (0..<perTransaction).map { index in
                                CloudEvent(id: "\(appender)-\(transaction)-\(index)", source: "urn:test:\(appender)", type: "order.shipped",
                                           subject: "o-\(appender)", time: nil, data: ["carrier": "DHL"])
                            }
                            let result = try await log.append(batches: [events], now: Date())
                            #expect(result.first?.appended == perTransaction)
                        }
                    }
                }
                try await group.waitForAll()
            }
            done.store(true, ordering: .releasing)
            let (seen, outOfOrder) = try await reader.value
            let expected = appenders * transactions * perTransaction
            #expect(outOfOrder.isEmpty)
            #expect(seen.count == expected)
            #expect(Set(seen).count == expected)
            #expect(try await log.head() == Int64(expected))
        }
    }
}
