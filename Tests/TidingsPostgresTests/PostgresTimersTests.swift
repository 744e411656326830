import Foundation
import PostgresNIO
import Testing
import TidingsTestSupport
import TidingsCore
@testable import TidingsPostgres

/// Deadline timers on PostgreSQL: fired once, whichever instances fire at the same moment.
@Suite("PostgreSQL: deadline timers and the clock", .timeLimit(.minutes(5)))
struct PostgresTimersTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func schedule(_ backend: PostgresBackend, _ timers: [DeadlineTimer]) async throws {
        try await backend.transaction("scheduling test timers") { connection in
            try await connection.query("""
                INSERT INTO timers (type, subject, due_at, scheduled_by)
                SELECT t, s, d, 1 FROM unnest(\(timers.map(\.type))::text[], \(timers.map(\.subject))::text[],
                                               \(timers.map(\.dueAt.timeIntervalSince1970))::float8[]) AS x(t, s, d)
                """, logger: backend.logger)
        }
    }

    @Test func dueTimersFireOnceWhenSeveralInstancesFireTogether() async throws {
        try await PostgresTestCluster.withDatabase { backend in
            let due = (0..<300).map { DeadlineTimer(type: "order.dispatch_overdue", subject: "o-\($0)", dueAt: now.addingTimeInterval(-Double($0))) }
            let later = DeadlineTimer(type: "ticket.response_overdue", subject: "t-1", dueAt: now.addingTimeInterval(3_600))
            try await Self.schedule(backend, due + [later])
            let log = PostgresLog(backend: backend)
            let timers = PostgresTimers(log: log)
            let firings = try await withThrowingTaskGroup(of: TimerFiring.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        var total = TimerFiring(timers: 0, appended: 0)
                        while true {
                            let firing = try await timers.fireDueTimers(now: now, limit: 20)
                            if firing.timers == 0 { return total }
                            total.timers += firing.timers
                            total.appended += firing.appended
                        }
                    }
                }
                return try await group.reduce(into: [TimerFiring]()) { $0.append($1) }
            }
            #expect(firings.map(\.timers).reduce(0, +) == 300)
            #expect(firings.map(\.appended).reduce(0, +) == 300)
            #expect(try await timers.nextTimer() == later)
            while try await log.sequence() > 0 {}
            let events = try await log.events(after: 0, limit: 1_000).map { try $0.get().event }
            #expect(events.count == 300 && Set(events.map(\.id)) == Set(due.map(\.event.id)))
        }
    }

    @Test func aForgottenCustomersDeadlineGoesUnfired() async throws {
        try await PostgresTestCluster.withDatabase { backend in
            try await Self.schedule(backend, [DeadlineTimer(type: "order.dispatch_overdue", subject: "o-1", dueAt: now),
                                              DeadlineTimer(type: "order.dispatch_overdue", subject: "o-2", dueAt: now)])
            try await backend.transaction("forgetting") { connection in
                try await connection.query("INSERT INTO forgotten VALUES ('order:o-2', 'c-2', 0)", logger: backend.logger)
            }
            let firing = try await PostgresTimers(log: PostgresLog(backend: backend)).fireDueTimers(now: now, limit: 10)
            #expect(firing.timers == 2 && firing.appended == 1)
        }
    }

    @Test func theSimulatedTimeOnlyMovesForward() async throws {
        try await PostgresTestCluster.withDatabase { backend in
            let timers = PostgresTimers(log: PostgresLog(backend: backend))
            #expect(try await timers.simulatedTime() == nil)
            try await timers.setSimulatedTime(now)
            try await timers.acknowledgeSimulatedTime(now)
            #expect(try await timers.simulatedTime() == now)
            await #expect(throws: PostgresBackendError.self) { try await timers.setSimulatedTime(now.addingTimeInterval(-1)) }
            try await timers.setSimulatedTime(now.addingTimeInterval(60))
            #expect(try await timers.simulatedTime() == now.addingTimeInterval(60))
        }
    }
}
