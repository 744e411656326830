import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TidingsCore
import TidingsTestSupport

/// `tidings serve` on PostgreSQL when the database goes away under it: `/readyz` says so, the
/// daemon keeps running, and once the database takes connections again it is ready and
/// processes what it is sent.
@Suite("PostgreSQL: a lost database", .serialized, .timeLimit(.minutes(5)))
struct DatabaseLossTests {
    static let token = "shop-ingest-token-0123456789"

    @Test func readyzReportsTheLostDatabaseAndTheDaemonCarriesOnWhenItIsBack() async throws {
        let directory = try Paths.temporaryDirectory("db-loss")
        let database = try await PostgresTestCluster.newDatabase()
        let settings = try await PostgresTestCluster.settings(database: database)
        let daemon = try await HTTPAPITests.start(directory, extra: [
            "DATABASE_URL": "postgres://tidings@127.0.0.1:\(settings.port)/\(database)?sslmode=disable",
            "DATABASE_PASSWORD": PostgresTestCluster.password,
            "HTTP_TOKENS": "shop ingest,read \(Self.token)",
        ])
        defer { daemon.child.signal(SIGKILL) }
        try await Self.waitFor("ready at start") { try await HTTPAPITests.call("GET", "\(daemon.base)/readyz").status == 200 }

        // The database refuses new connections and drops the daemon's.
        _ = try await PostgresTestCluster.number("ALTER DATABASE \(database) ALLOW_CONNECTIONS false", in: "postgres")
        _ = try await PostgresTestCluster.number("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)'
            """, in: "postgres")
        var lost = HTTPAPITests.Reply(status: 0, headers: [:], body: Data())
        try await Self.waitFor("not ready while the database is gone") {
            lost = try await HTTPAPITests.call("GET", "\(daemon.base)/readyz")
            return lost.status == 503
        }
        #expect(lost.text.contains("database: cannot start a write transaction"), "\(lost.text)")
        let refused = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: Self.token, type: "application/cloudevents+json",
                                                  body: Data(Self.event("loss-1").utf8))
        #expect(refused.status >= 500, "an event the log could not take is not acknowledged: \(refused.status) \(refused.text)")

        _ = try await PostgresTestCluster.number("ALTER DATABASE \(database) ALLOW_CONNECTIONS true", in: "postgres")
        // The pool tries again with a backoff that grows with the failures (to a minute at most,
        // fixed in PostgresNIO); under the whole suite's load the outage counts more failures.
        try await Self.waitFor("ready again", within: 150) { try await HTTPAPITests.call("GET", "\(daemon.base)/readyz").status == 200 }
        #expect(daemon.child.process.isRunning)
        let accepted = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: Self.token, type: "application/cloudevents+json",
                                                   body: Data(Self.event("loss-2").utf8))
        #expect((200..<300).contains(accepted.status), "\(accepted.status) \(accepted.text)")
        // The pipeline's own connections come back with the same backoff: /readyz can answer
        // from one that is back while the pipeline's still waits. (The runs that once went past
        // 30 s and 100 s here were a batch waiting forever on a query lost on its closed
        // connection: `PostgresConnectionLossTests`.)
        try await Self.waitFor("the event projected", within: 150) {
            try await PostgresTestCluster.number("SELECT COUNT(*) FROM customers WHERE id = 'loss-2'", in: database) == 1
        }
        // The refused request stored nothing: its sender sends it again.
        #expect(try await PostgresTestCluster.number("SELECT COUNT(*) FROM events WHERE id = 'loss-1'", in: database) == 0)
    }

    static func event(_ customer: String) -> String {
        #"{"specversion":"1.0","id":"\#(customer)","source":"urn:loss","type":"customer.registered","subject":"\#(customer)","data":{"name":"Lost","email":"lost@example.com","locale":"en","timezone":"Europe/London","preferences":{"channels":["email"],"consent":{"email":true},"opt_out":[]}}}"#
    }

    static func waitFor(_ what: String, within seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting: \(what)")
    }
}
