import Foundation
import Testing
import TidingsTestSupport

/// The commands that work on PostgreSQL, run as a user runs them: `check`, `append` (all of a
/// file or none of it), `status`, and the others saying they need SQLite.
@Suite("Commands on PostgreSQL", .timeLimit(.minutes(3)))
struct PostgresCommandsTests {
    @Test func checkAppendAndStatusWorkAndTheOthersSaySo() async throws {
        let directory = try Paths.temporaryDirectory("pg-commands")
        let database = try await PostgresTestCluster.newDatabase()
        let settings = try await PostgresTestCluster.settings(database: database)
        let passwordFile = directory.appendingPathComponent("password")
        try Data(PostgresTestCluster.password.utf8).write(to: passwordFile)
        let env = Paths.environment(in: directory).merging([
            "DATABASE_URL": "postgres://tidings@127.0.0.1:\(settings.port)/\(database)?sslmode=disable",
            "DATABASE_PASSWORD_FILE": passwordFile.path,
        ]) { $1 }
        let day = Paths.root.appendingPathComponent("config/examples/day.ndjson").path

        let check = try await ChildProcess.tidings(["check"], environment: env, logs: directory)
        #expect(check.status == 0 && check.stdout.contains("database: PostgreSQL 15") && check.stdout.contains("0 events in the log"))
        #expect(!check.stdout.contains(PostgresTestCluster.password) && !check.stderr.contains(PostgresTestCluster.password))

        let broken = directory.appendingPathComponent("broken.ndjson")
        let lines = try String(contentsOfFile: day, encoding: .utf8).split(separator: "\n").prefix(5).joined(separator: "\n")
        try Data((lines + "\n{\"specversion\":\"1.0\",\"id\":\"x\"}\n").utf8).write(to: broken)
        let refused = try await ChildProcess.tidings(["append", broken.path], environment: env, logs: directory)
        #expect(refused.status != 0 && refused.stderr.contains("line 6: source: is required") && refused.stderr.contains("appended nothing"))

        let appended = try await ChildProcess.tidings(["append", day], environment: env, logs: directory)
        #expect(appended.status == 0 && appended.stdout.contains("appended 47 events, 0 already stored"), "\(appended.stderr)")
        let again = try await ChildProcess.tidings(["append", day], environment: env, logs: directory)
        #expect(again.stdout.contains("appended 0 events, 47 already stored"))

        let status = try await ChildProcess.tidings(["status"], environment: env, logs: directory)
        #expect(status.status == 0 && status.stdout.contains("log head:    47") && status.stdout.contains("lag:         47 events"))

        let other = try await ChildProcess.tidings(["deliveries", "list"], environment: env, logs: directory)
        #expect(other.status == 2 && other.stderr.contains("needs the SQLite backend"))
    }
}
