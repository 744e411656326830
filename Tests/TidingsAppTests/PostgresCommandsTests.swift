import Foundation
import Testing
import TidingsTestSupport

/// The commands on PostgreSQL, run as a user runs them: `check`, `append` (all of a file or
/// none of it), `status`, `endpoints`, `deliveries`, held events, `forget`, `clock`,
/// `suppressions`, `rebuild`, `preview` and `replay`.
@Suite("Commands on PostgreSQL", .timeLimit(.minutes(3)))
struct PostgresCommandsTests {
    @Test func everyCommandWorksOnPostgreSQL() async throws {
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

        // An endpoint a 410 disabled, enabled again; the outbox listed and its dead retried.
        _ = try await PostgresTestCluster.number("""
            INSERT INTO endpoints (channel, target, disabled_at, reason) VALUES ('sms', 'https://sms.example/send', 1795000000, 'HTTP 410')
            """, in: database)
        let listed = try await ChildProcess.tidings(["endpoints"], environment: env, logs: directory)
        #expect(listed.status == 0 && listed.stdout.contains("email\t"), "\(listed.stdout)\(listed.stderr)")
        let enabled = try await ChildProcess.tidings(["endpoints", "enable", "sms"], environment: env, logs: directory)
        #expect(enabled.stdout.contains("enabled the sms endpoint"), "\(enabled.stdout)\(enabled.stderr)")
        #expect(try await PostgresTestCluster.number("SELECT COUNT(*) FROM endpoints", in: database) == 0)
        let deliveries = try await ChildProcess.tidings(["deliveries", "list"], environment: env, logs: directory)
        #expect(deliveries.status == 0, "\(deliveries.stderr)")
        let retried = try await ChildProcess.tidings(["deliveries", "retry", "--all-dead"], environment: env, logs: directory)
        #expect(retried.stdout.contains("queued 0 messages"), "\(retried.stdout)\(retried.stderr)")
        let quarantined = try await ChildProcess.tidings(["events", "quarantined"], environment: env, logs: directory)
        #expect(quarantined.status == 0, "\(quarantined.stderr)")
        let retry = try await ChildProcess.tidings(["events", "retry", "--all"], environment: env, logs: directory)
        #expect(retry.status == 1 && retry.stderr.contains("no event is quarantined"), "\(retry.stdout)\(retry.stderr)")

        let forgot = try await ChildProcess.tidings(["forget", "c-1005"], environment: env, logs: directory)
        #expect(forgot.status == 0 && forgot.stdout.contains("forgot customer c-1005 (customer.forgotten at position 48)"),
                "\(forgot.stdout)\(forgot.stderr)")
        let again2 = try await ChildProcess.tidings(["forget", "c-1005"], environment: env, logs: directory)
        #expect(again2.status != 0 && again2.stderr.contains("was forgotten already"), "\(again2.stderr)")

        // The simulated clock, with no daemon running; the suppressions (none yet).
        let simulated = env.merging(["CLOCK_SOURCE": "database"]) { $1 }
        let set = try await ChildProcess.tidings(["clock", "set", "2026-11-24T08:00:00Z"], environment: simulated, logs: directory)
        #expect(set.stdout.contains("clock set to 2026-11-24T08:00:00Z (no daemon is running"), "\(set.stdout)\(set.stderr)")
        let back = try await ChildProcess.tidings(["clock", "set", "2026-11-23T08:00:00Z"], environment: simulated, logs: directory)
        #expect(back.status != 0 && back.stderr.contains("it only moves forward"), "\(back.stderr)")
        let shown = try await ChildProcess.tidings(["clock"], environment: simulated, logs: directory)
        #expect(shown.stdout.contains("now:     2026-11-24T08:00:00Z"), "\(shown.stdout)\(shown.stderr)")
        let suppressed = try await ChildProcess.tidings(["suppressions"], environment: env, logs: directory)
        #expect(suppressed.stdout.contains("no address is suppressed"), "\(suppressed.stdout)\(suppressed.stderr)")
        let lift = try await ChildProcess.tidings(["suppressions", "remove", "email", "x@example.com"], environment: env, logs: directory)
        #expect(lift.status == 1 && lift.stderr.contains("x@example.com is not suppressed on email"), "\(lift.stderr)")

        // A preview against the models as PostgreSQL holds them (the customer of c-1005's
        // order comes from the table once the pipeline ran: here a rebuild made them).
        let rebuilt = try await ChildProcess.tidings(["rebuild"], environment: env, logs: directory)
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains("rebuilt from 0 events"), "\(rebuilt.stdout)\(rebuilt.stderr)")
        let sample = directory.appendingPathComponent("preview.ndjson")
        try Data(#"""
            {"specversion":"1.0","id":"pv-c","source":"urn:pv","type":"customer.registered","subject":"pv-1","data":{"name":"Pat","email":"pat@example.com","locale":"en","timezone":"Europe/London","preferences":{"channels":["email"],"consent":{"email":true},"opt_out":[]}}}
            {"specversion":"1.0","id":"pv-t","source":"urn:pv","type":"ticket.opened","subject":"pv-t-1","data":{"customer_id":"pv-1","kind":"complaint","summary":"Late parcel"}}
            """#.utf8).write(to: sample)
        let preview = try await ChildProcess.tidings(["preview", sample.path], environment: env, logs: directory)
        #expect(preview.status == 0 && preview.stdout.contains("complaint_acknowledgement: email to pat@example.com, en, would send"),
                "\(preview.stdout)\(preview.stderr)")

        // Nothing applied by a pipeline yet (no daemon ran): a dry run says so.
        let candidate = directory.appendingPathComponent("candidate")
        try FileManager.default.createDirectory(at: candidate, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/workflows.yaml"),
                                         to: candidate.appendingPathComponent("workflows.yaml"))
        let replay = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path], environment: env, logs: directory)
        #expect(replay.status == 1 && replay.stderr.contains("no events applied by the pipeline were recorded at any time"),
                "\(replay.stdout)\(replay.stderr)")
    }
}
