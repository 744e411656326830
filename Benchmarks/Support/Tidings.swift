import Foundation
import GRDB

/// The Tidings binary under test, run from the repository root (for its shipped configuration,
/// workflows and templates) on a database of the scenario's own, with settings as environment
/// overrides (swift-configuration's convention), exactly as an operator would set them.
struct Tidings {
    let binary: String
    let repository: URL
    let work: URL
    let database: URL
    var environment: [String: String]
    let token = "bench-token-0000000000000001"

    init(binary: String, repository: URL, work: URL, scenario: String, logLevel: String) throws {
        self.binary = binary
        self.repository = repository
        self.work = work.appendingPathComponent(scenario)
        try? FileManager.default.removeItem(at: self.work)
        try FileManager.default.createDirectory(at: self.work, withIntermediateDirectories: true)
        database = self.work.appendingPathComponent("tidings.sqlite")
        environment = [
            "TIDINGS_CONFIG": repository.appendingPathComponent("config/tidings.yaml").path,
            "DATABASE_PATH": database.path,
            "DATABASE_SYNCHRONOUS": "full",
            "LOG_LEVEL": logLevel,
            "SPOOL_DIRECTORY": self.work.appendingPathComponent("spool").path,
            "HTTP_TOKENS": "bench ingest,read,admin \(token)",
            "HTTP_BODY_LIMIT": "8388608",
            "HTTP_READY_MAX_LAG": "10000000",
        ]
    }

    /// Email to an SMTP server on loopback (no TLS there), `concurrency` sessions.
    mutating func email(smtpPort: Int, concurrency: Int) {
        environment["EMAIL_TRANSPORT"] = "smtp"
        environment["SMTP_URL"] = "smtp://127.0.0.1:\(smtpPort)"
        environment["SMTP_STARTTLS"] = "off"
        environment["EMAIL_CONCURRENCY"] = "\(concurrency)"
    }

    /// SMS as signed Standard Webhooks (the generic preset) to a receiver on loopback.
    mutating func sms(webhookPort: Int, concurrency: Int) {
        environment["SMS_TRANSPORT"] = "webhook"
        environment["SMS_WEBHOOK_PRESET"] = "generic"
        environment["SMS_WEBHOOK_URL"] = "http://127.0.0.1:\(webhookPort)/sms"
        environment["SMS_WEBHOOK_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        environment["SMS_CONCURRENCY"] = "\(concurrency)"
    }

    /// Runs `tidings append FILE` and returns the seconds it took, process start to exit 0,
    /// and its peak resident memory.
    @discardableResult
    func append(_ file: URL, name: String = "append") async throws -> (seconds: Double, peakMB: Double) {
        try await Child.timed(name, binary, ["append", file.path], environment: environment, directory: repository, logs: work)
    }

    /// Starts `tidings append FILE` and returns at once.
    func startAppend(_ file: URL, name: String = "append") throws -> Child {
        let child = try Child(name, binary, ["append", file.path], environment: environment, directory: repository, logs: work)
        try child.start()
        return child
    }

    /// Starts `tidings serve` and waits until its HTTP port accepts connections.
    func serve(name: String = "serve", dispatch: Bool = true) async throws -> (child: Child, port: Int) {
        let port = try freePort()
        var env = environment
        env["HTTP_LISTEN"] = "127.0.0.1:\(port)"
        env["DISPATCHER_ENABLED"] = dispatch ? "true" : "false"
        let child = try Child(name, binary, ["serve"], environment: env, directory: repository, logs: work)
        try child.start()
        do {
            try await waitForPort(port, timeout: 60, what: "tidings serve")
        } catch {
            throw BenchError("\(error): \(child.tail())")
        }
        return (child, port)
    }

    /// A read-only view of the database, as another process sees it.
    func reader() throws -> DatabasePool {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabasePool(path: database.path, configuration: configuration)
    }
}

/// What the suite reads back from a daemon's database to know where it is.
struct Progress {
    let pool: DatabasePool

    func head() throws -> Int64 { try pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(position) FROM events") ?? 0 } }

    /// Events a running `tidings append` has written but not yet made visible.
    func staged() throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events WHERE append_id IN (SELECT id FROM appends)") ?? 0 }
    }

    func checkpoint() throws -> Int64 {
        try pool.read { try Int64.fetchOne($0, sql: "SELECT position FROM checkpoints WHERE name = 'pipeline'") ?? 0 }
    }

    func messages(state: String, channel: String? = nil, workflow: String? = nil) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM messages WHERE state = ? AND (? IS NULL OR channel = ?) AND (? IS NULL OR workflow = ?)
                """, arguments: [state, channel, channel, workflow, workflow]) ?? 0
        }
    }

    /// When the first message of a workflow was sent, and when half of them were, in seconds
    /// after `start` (by the database's record of each send).
    func sentSpread(workflow: String, after start: Date) throws -> (first: Double, half: Double) {
        let times = try pool.read { db in
            try Double.fetchAll(db, sql: "SELECT sent_at FROM messages WHERE workflow = ? AND sent_at IS NOT NULL ORDER BY sent_at",
                                arguments: [workflow])
        }
        guard let first = times.first else { return (0, 0) }
        let since = start.timeIntervalSince1970
        return (first - since, times[times.count / 2] - since)
    }

    /// Whether a disruption still has orders to tell (rows in `fanout`): cheap enough to ask
    /// every 20 ms.
    func fanoutPending() throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM fanout)") ?? false }
    }

    /// Whether a message of the channel is still to be sent: cheap enough to ask every 20 ms.
    func unsent(channel: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM messages WHERE state IN ('pending', 'retrying', 'sending') AND channel = ?)
                """, arguments: [channel]) ?? false
        }
    }

    /// Polls until `done` holds, failing after `timeout` seconds with what it last saw.
    func wait(timeout: Double, every: Duration = .milliseconds(20), _ what: String, _ done: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if try done() { return }
            try await Task.sleep(for: every)
        }
        throw BenchError("timed out after \(Int(timeout)) s waiting for \(what)")
    }

    /// Waits for the pipeline to apply every event in the log.
    func caughtUp(timeout: Double) async throws {
        let head = try head()
        try await wait(timeout: timeout, "the pipeline to reach position \(head)") { try checkpoint() >= head }
    }
}
