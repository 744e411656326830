import Foundation
import Testing
import TidingsCore
import TidingsDelivery
import TidingsStore

/// The real `tidings serve`, killed with SIGKILL at random moments while it sends 2,000
/// messages to a real server, and restarted each time: nothing may be lost, and every duplicate
/// must carry the idempotency key of its original.
@Suite("Crash recovery under SIGKILL", .serialized)
struct CrashRecoveryTests {
    static let messages = 2_000
    static let inFlight = 8
    static let kills = 6
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 251) }).base64EncodedString()

    /// One customer and one complaint per message: each complaint is acknowledged on the
    /// customer's only channel.
    static func events(channel: Channel) -> Data {
        var lines: [String] = []
        for n in 0..<messages {
            let contact = channel == .email ? #""email":"customer\#(n)@example.com""# : #""phone":"+4477009\#(String(format: "%05d", n))""#
            lines.append(#"{"specversion":"1.0","id":"c-\#(n)","source":"urn:crash","type":"customer.registered","subject":"c-\#(n)","data":{"name":"Customer \#(n)",\#(contact),"preferences":{"channels":["\#(channel.rawValue)"],"consent":{"sms":true}}}}"#)
            lines.append(#"{"specversion":"1.0","id":"t-\#(n)","source":"urn:crash","type":"ticket.opened","subject":"t-\#(n)","data":{"customer_id":"c-\#(n)","kind":"complaint","summary":"Broken on arrival"}}"#)
        }
        return Data(lines.joined(separator: "\n").utf8)
    }

    /// Starts the daemon, kills it whenever the server has seen a few hundred more messages,
    /// restarts it, and finally lets it finish and stop. Returns how many times it was killed.
    func run(_ name: String, environment: [String: String], server: LoopbackServer, directory: URL) async throws -> Int {
        let appended = try await ChildProcess.tidings(["append", "-"], environment: environment, logs: directory,
                                                      stdin: Self.events(channel: name == "email" ? .email : .sms))
        #expect(appended.status == 0, "\(appended.stderr)")
        // One kill in each stretch of the first 70% of the run, at a random point in it (the
        // server's count includes duplicates). The server holds its answers past each point,
        // so a busy machine that polls the count late still kills mid-stream.
        let stretch = (Self.messages * 7 / 10 - 100) / Self.kills
        var thresholds = (0..<Self.kills).map { 100 + $0 * stretch + Int.random(in: 0..<(stretch - 50)) }
        var kills = 0
        var run = 0
        var daemon: ChildProcess
        var notify: NotifySocket?
        while true {
            run += 1
            // The last run is stopped with SIGTERM, which the daemon handles only once it is up:
            // it waits for READY=1 as systemd would, or a stop during start-up is a plain kill.
            notify = thresholds.isEmpty ? try NotifySocket(directory: directory) : nil
            // The server answers up to the next kill's point and holds the rest, so the kill
            // always finds messages in flight and more to send.
            try server.hold(after: thresholds.first)
            let env = environment.merging(notify.map { ["NOTIFY_SOCKET": $0.path] } ?? [:]) { $1 }
            daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve-\(run)")
            guard let threshold = thresholds.first else { break }
            thresholds.removeFirst()
            let deadline = Date().addingTimeInterval(120)
            while server.count() < threshold && daemon.process.isRunning && Date() < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...15)))
            #expect(daemon.process.isRunning, "the daemon died by itself: \(daemon.stderr.suffix(2_000))")
            daemon.signal(SIGKILL)
            _ = try await daemon.wait(timeout: 10)
            // A kill counts only if it hit the daemon mid-stream, with messages still to send:
            // asked of the database, since the server's count lags under load and includes
            // the duplicates.
            if try Self.sent(database: environment["DATABASE_PATH"] ?? "") < Self.messages { kills += 1 }
        }
        _ = try await notify?.waitFor("READY=1", timeout: 30)
        // One daemon per database: while this one runs, a second one refuses to start. Asked
        // of the last daemon, not the first: the first sends everything while a second process
        // starts, and the kills would then find nothing left to interrupt.
        let second = try await ChildProcess.tidings(["serve"], environment: environment, logs: directory)
        #expect(second.status != 0)
        #expect(second.stderr.contains("another `tidings serve`"), "\(second.stderr)")
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "50"], environment: environment, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")
        daemon.signal(SIGTERM)
        let status = try await daemon.wait(timeout: 30)
        #expect(status == 0, "stopped with \(status): \(daemon.stderr.suffix(3_000))")
        return kills
    }

    /// Messages recorded as sent, read while no daemon runs.
    static func sent(database: String) throws -> Int {
        try Store(path: database).pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE state = ?", arguments: [MessageState.sent.rawValue]) ?? 0
        }
    }

    func environment(_ directory: URL) -> [String: String] {
        Paths.environment(in: directory).merging([
            "EMAIL_CONCURRENCY": "\(Self.inFlight)", "SMS_CONCURRENCY": "\(Self.inFlight)", "LOG_LEVEL": "notice",
        ]) { $1 }
    }

    /// Every message was sent and arrived, each copy under its own idempotency key, with no
    /// more duplicates than the kills allow. `received` pairs what identifies a message at the
    /// server (its ticket, its recipient) with the key it carried.
    func expectEveryMessageOnceByKey(database: String, identity: (MessageSummary) -> String?, wireID: (String) -> String,
                                     received: [(identity: String, id: String)], kills: Int, label: String) throws {
        let sent = try Store(path: database).messages(limit: 100_000)
        #expect(sent.count == Self.messages)
        #expect(sent.allSatisfy { $0.state == .sent }, "\(sent.filter { $0.state != .sent }.prefix(5))")
        let keyByIdentity = Dictionary(uniqueKeysWithValues: sent.map { (identity($0) ?? "", $0.key) })
        var idsByIdentity: [String: Set<String>] = [:]
        for (identity, id) in received { idsByIdentity[identity, default: []].insert(id) }
        #expect(idsByIdentity.count == Self.messages, "every message arrived")
        for (identity, ids) in idsByIdentity {
            #expect(ids == [wireID(keyByIdentity[identity] ?? "-")], "\(identity): \(ids)")
        }
        // A kill sends again what was in flight or finished but not yet recorded: at most
        // the queue's `windowPerSlot` times the concurrency.
        let duplicates = received.count - Self.messages
        #expect(duplicates <= kills * Self.inFlight * Store.windowPerSlot, "\(duplicates) duplicates after \(kills) kills")
        print("crash test (\(label)): \(kills) kills, \(duplicates) duplicates of \(Self.messages) messages")
    }

    @Test func webhooksSurviveKillsWithoutLossAndDuplicatesKeepTheirWebhookID() async throws {
        let directory = try Paths.temporaryDirectory("crash-http")
        let server = try await LoopbackServer.http(logs: directory, secret: Self.secret)
        var env = environment(directory)
        env["SMS_TRANSPORT"] = "webhook"
        env["SMS_WEBHOOK_PRESET"] = "generic"
        // 10 ms an answer: with sends held for the connections, a receiver that answers at once
        // took all 2,000 before the first planned kill in one run, and no kill interrupted
        // anything.
        env["SMS_WEBHOOK_URL"] = "http://127.0.0.1:\(server.port)/hook?delay=0.01"
        env["SMS_WEBHOOK_SECRET"] = Self.secret
        let kills = try await run("sms", environment: env, server: server, directory: directory)
        try await server.stop()
        #expect(kills == Self.kills, "every kill lands mid-stream: the server holds its answers past each kill's point")

        let requests = try server.received()
        let received = try requests.map { request in
            let body = try JSONValue.parse(Data((request["body"]?.stringValue ?? "").utf8))
            return (identity: body["subject_id"]?.stringValue ?? "?", id: request.value(atPath: "headers.webhook-id")?.stringValue ?? "")
        }
        try expectEveryMessageOnceByKey(database: env["DATABASE_PATH"]!, identity: \.subjectID, wireID: { $0 }, received: received,
                                        kills: kills, label: "webhook")
        let unverified = requests.filter { $0["verified"] != true }
        #expect(unverified.isEmpty, "standardwebhooks refused: \(unverified.prefix(3).map { $0["verify_error"]?.stringValue ?? "" })")
    }

    @Test func emailSurvivesKillsWithoutLossAndDuplicatesKeepTheirMessageID() async throws {
        let directory = try Paths.temporaryDirectory("crash-smtp")
        let server = try await LoopbackServer.smtp(logs: directory)
        var env = environment(directory)
        env["EMAIL_TRANSPORT"] = "smtp"
        env["SMTP_URL"] = "smtp://127.0.0.1:\(server.port)"
        env["SMTP_STARTTLS"] = "off"
        let kills = try await run("email", environment: env, server: server, directory: directory)
        try await server.stop()
        #expect(kills == Self.kills, "every kill lands mid-stream: the server holds its answers past each kill's point")

        let received = try server.received().map { email in
            let header = (email["data"]?.stringValue ?? "").components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }
            return (identity: email["rcpt_tos"]?.arrayValue?.first?.stringValue ?? "?", id: String(header?.dropFirst("Message-ID: ".count) ?? ""))
        }
        try expectEveryMessageOnceByKey(database: env["DATABASE_PATH"]!, identity: \.recipient, wireID: { "<\($0)@northwind.example>" },
                                        received: received, kills: kills, label: "email")
    }
}
