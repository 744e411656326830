import Foundation
import Testing
import TidingsCore
import TidingsStore

/// The real `tidings` binary against real servers on loopback: the example day in, messages
/// out through SMTP (aiosmtpd, with AUTH) and HTTP (Twilio and Messenger presets).
@Suite("End to end through the daemon", .serialized)
struct EndToEndTests {
    let examples = Paths.root.appendingPathComponent("config/examples/day.ndjson").path

    func environment(_ directory: URL, smtp: LoopbackServer, http: LoopbackServer) throws -> [String: String] {
        let password = directory.appendingPathComponent("smtp-password")
        try "s3cret-smtp\n".write(to: password, atomically: true, encoding: .utf8)
        return [
            "TIDINGS_CONFIG": Paths.root.appendingPathComponent("config/tidings.yaml").path,
            "DATABASE_PATH": directory.appendingPathComponent("tidings.sqlite").path,
            "SPOOL_DIRECTORY": directory.appendingPathComponent("spool").path,
            "EMAIL_TRANSPORT": "smtp", "SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "SMTP_STARTTLS": "off",
            "SMTP_USERNAME": "tidings", "SMTP_PASSWORD_FILE": password.path,
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "twilio", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/twilio/Messages.json",
            "SMS_WEBHOOK_FROM": "+15005550006", "SMS_WEBHOOK_USERNAME": "AC0001", "SMS_WEBHOOK_PASSWORD": "tw-s3cret",
            "MESSENGER_TRANSPORT": "webhook", "MESSENGER_WEBHOOK_PRESET": "messenger",
            "MESSENGER_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/messenger/me/messages", "MESSENGER_WEBHOOK_TOKEN": "page-s3cret",
        ]
    }

    /// A customer whose name tries to add a Bcc header, and an order that mails them.
    let injection = """
        {"specversion":"1.0","id":"inj-1","source":"urn:test","type":"customer.registered","subject":"c-evil","data":{"name":"Ann\\r\\nBcc: x@evil.test","email":"ann.evil@example.com","preferences":{"channels":["email"]}}}
        {"specversion":"1.0","id":"inj-2","source":"urn:test","type":"order.placed","subject":"o-evil","data":{"customer_id":"c-evil","total":5,"currency":"EUR","items":[{"sku":"X","name":"X\\r\\nBcc: y@evil.test","quantity":1,"unit_price":5}]}}
        """

    @Test func theExampleDayReachesRealServers() async throws {
        let directory = try Paths.temporaryDirectory("e2e")
        let smtp = try await LoopbackServer.smtp(logs: directory, auth: "tidings:s3cret-smtp")
        let http = try await LoopbackServer.http(logs: directory)
        let notify = try NotifySocket(directory: directory)
        // A fixed midday on the database clock: on the wall clock, the SMS of customers in their
        // quiet hours stayed pending whenever the test ran in the evening.
        let env = try environment(directory, smtp: smtp, http: http).merging(["CLOCK_SOURCE": "database"]) { $1 }
        let clock = try await ChildProcess.tidings(["clock", "set", "2026-12-03T12:00:00Z"], environment: env, logs: directory)
        #expect(clock.status == 0, "\(clock.stderr)")
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env.merging(
            ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) { $1 }, logs: directory, name: "serve")

        let startup = try await notify.waitFor("READY=1", timeout: 30)
        #expect(startup.contains { $0.contains("READY=1") })
        _ = try await notify.waitFor("WATCHDOG=1", timeout: 5)

        let appended = try await ChildProcess.tidings(["append", examples], environment: env, logs: directory)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stdout.contains(", 0 already stored"))
        let injected = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(injection.utf8))
        #expect(injected.stdout.contains("appended 2 events"), "\(injected.stderr)")

        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "60"], environment: env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
        #expect(daemon.stderr.contains("tidings stopped"))
        for secret in ["s3cret-smtp", "tw-s3cret", "page-s3cret"] {
            #expect(!daemon.stderr.contains(secret), "a secret reached the log")
        }

        let store = try Store(path: env["DATABASE_PATH"]!)
        let messages = try store.messages(limit: 10_000)
        #expect(messages.filter { $0.state == .sent }.count > 10)
        // The day arrives at once, so order-status notices overtaken by a later status are
        // suppressed (with the reason); everything else is sent, or skipped with a reason.
        let unsent = messages.filter { ![.sent, .skipped, .suppressed].contains($0.state) }
        #expect(unsent.isEmpty, "not delivered: \(unsent.map { "\($0.workflow) \($0.state) \($0.lastError ?? "")" })")
        #expect(messages.filter { $0.state == .suppressed }.allSatisfy { $0.workflow != "order_confirmation" && $0.lastError?.hasPrefix("superseded by") == true })
        #expect(messages.filter { $0.workflow.hasSuffix("acknowledgement") }.allSatisfy { $0.state == .sent })
        let sent = messages.filter { $0.state == .sent }

        // Email: every sent message arrived once, to its recipient, with its Message-ID.
        let emails = try smtp.received()
        let sentEmails = sent.filter { $0.channel == "email" }
        #expect(emails.count == sentEmails.count)
        for message in sentEmails {
            let matching = emails.filter { $0["data"]?.stringValue?.contains("Message-ID: <\(message.key)@northwind.example>") == true }
            #expect(matching.count == 1, "\(message.workflow) to \(message.recipient ?? "")")
            guard let email = matching.first, let data = email["data"]?.stringValue else { continue }
            #expect(email["rcpt_tos"] == .array([.string(message.recipient ?? "")]))
            #expect(email["auth_user"] == "tidings")
            #expect(data.contains("\r\nAuto-Submitted: auto-generated\r\n"))
            #expect(data.contains("Content-Type: multipart/alternative"))
        }
        let evil = try #require(emails.first { $0["rcpt_tos"] == ["ann.evil@example.com"] })
        let evilHeaders = (evil["data"]?.stringValue ?? "").components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(!evilHeaders.contains { $0.lowercased().hasPrefix("bcc") }, "\(evilHeaders)")
        #expect(evilHeaders.contains { $0.hasPrefix("To: ") })

        // SMS through the Twilio preset, messenger through the Send API preset.
        let requests = try http.received()
        let twilio = requests.filter { $0["path"]?.stringValue?.hasPrefix("/twilio/") == true }
        let messenger = requests.filter { $0["path"]?.stringValue?.hasPrefix("/messenger/") == true }
        #expect(twilio.count == sent.filter { $0.channel == "sms" }.count)
        #expect(messenger.count == sent.filter { $0.channel == "messenger" }.count)
        #expect(!twilio.isEmpty)
        for request in twilio {
            let body = request["body"]?.stringValue ?? ""
            #expect(body.contains("From=%2B15005550006") && body.contains("To=%2B") && body.contains("Body="))
            #expect(request.value(atPath: "headers.authorization")?.stringValue?.hasPrefix("Basic ") == true)
        }
        for request in messenger {
            #expect(request["path"]?.stringValue?.contains("access_token=page-s3cret") == true)
            let body = try JSONValue.parse(Data((request["body"]?.stringValue ?? "").utf8))
            #expect(body.value(atPath: "recipient.id")?.stringValue != nil)
            #expect(body.value(atPath: "message.text")?.stringValue?.isEmpty == false)
        }

        // Sending the day again appends nothing and sends nothing.
        let again = try await ChildProcess.tidings(["append", examples], environment: env, logs: directory)
        #expect(again.stdout.contains("appended 0 events"))
        try await smtp.stop()
        try await http.stop()
    }

    @Test func sigtermLetsASendInFlightFinishAndRecordsIt() async throws {
        let directory = try Paths.temporaryDirectory("sigterm")
        let http = try await LoopbackServer.http(logs: directory)
        let notify = try NotifySocket(directory: directory)
        let database = directory.appendingPathComponent("tidings.sqlite").path
        let env = [
            "TIDINGS_CONFIG": Paths.root.appendingPathComponent("config/tidings.yaml").path, "DATABASE_PATH": database,
            "SPOOL_DIRECTORY": directory.appendingPathComponent("spool").path,
            // The receiver takes 1.5 s to answer, so the send is still in flight at SIGTERM.
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/hook?delay=1.5",
        ]
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env.merging(["NOTIFY_SOCKET": notify.path]) { $1 },
                                      logs: directory, name: "serve")
        _ = try await notify.waitFor("READY=1", timeout: 30)
        let events = """
            {"specversion":"1.0","id":"s-1","source":"urn:test","type":"customer.registered","subject":"c-1","data":{"name":"Ann","phone":"+447700900123","preferences":{"channels":["sms"],"consent":{"sms":true}}}}
            {"specversion":"1.0","id":"s-2","source":"urn:test","type":"order.placed","subject":"o-1","data":{"customer_id":"c-1","total":5,"currency":"EUR","items":[{"sku":"X","name":"X","quantity":1,"unit_price":5}]}}
            {"specversion":"1.0","id":"s-3","source":"urn:test","type":"order.shipped","subject":"o-1","data":{}}
            """
        let appended = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(events.utf8))
        #expect(appended.status == 0, "\(appended.stderr)")

        let store = try Store(path: database)
        let deadline = Date().addingTimeInterval(20)
        while try store.messages(state: .sending).isEmpty && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try store.messages(state: .sending).map(\.workflow) == ["order_shipped"])
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)

        let shipped = try #require(try store.messages().first { $0.workflow == "order_shipped" })
        #expect(shipped.state == .sent)
        #expect(shipped.attempts == 1)
        #expect(try http.received().count == 1)
        try await http.stop()
    }

    @Test func anInvalidFileIsRefusedWholeWithLineNumbers() async throws {
        let directory = try Paths.temporaryDirectory("invalid")
        let env = ["DATABASE_PATH": directory.appendingPathComponent("t.sqlite").path,
                   "TIDINGS_CONFIG": Paths.root.appendingPathComponent("config/tidings.yaml").path]
        let file = """
            {"specversion":"1.0","id":"ok-1","source":"urn:test","type":"order.delivered","subject":"o-1","data":{}}
            {"specversion":"1.0","id":"bad-1","source":"urn:test","type":"order.placed","subject":"o-2","data":{"customer_id":"c-1","total":1,"currency":"EUR","items":[{"sku":"A","name":"A","quantity":"one","unit_price":1}]}}

            {"id":"bad-2","source":"urn:test","type":"order.shipped","subject":"o-2"}
            not json
            """
        let result = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(file.utf8))
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 2: data.items[0].quantity: must be a number"))
        #expect(result.stderr.contains("line 4: specversion: is required"))
        #expect(result.stderr.contains("line 5: (json): is not valid JSON"))
        #expect(!result.stderr.contains("line 1:"))
        #expect(try await Store(path: env["DATABASE_PATH"]!).head() == 0)
    }

    @Test func checkPassesOnTheShippedConfigAndNamesABrokenTemplate() async throws {
        let directory = try Paths.temporaryDirectory("check")
        let shipped = try await ChildProcess.tidings(["check"], environment: [:], logs: directory)
        #expect(shipped.status == 0, "\(shipped.stderr)")
        #expect(shipped.stdout.contains("configuration ok"))

        let templates = directory.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/templates"), to: templates)
        try "Shipped: {{order.tracking.link}}".write(to: templates.appendingPathComponent("order_shipped/en/sms.text.mustache"),
                                                    atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: templates.appendingPathComponent("order_delivered/en/email.html.mustache"))
        let broken = try await ChildProcess.tidings(["check"], environment: ["TEMPLATES_DIRECTORY": templates.path], logs: directory)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("order_shipped/en/sms.text.mustache: unknown variable {{order.tracking.link}}"))
        #expect(broken.stderr.contains("missing template order_delivered/en/email.html.mustache"))
    }
}
