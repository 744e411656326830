import Foundation
import GRDB
import Testing
import TidingsCore
import TidingsStore

/// Delivery receipts through the daemon, posted as their senders post them: a bounce report
/// moves an email on to SMS and closes the address for the next order; Twilio's, Messenger's
/// and Standard Webhooks receipts signed by the providers' own code are taken, forged ones are
/// refused and change nothing.
@Suite("Delivery receipts", .serialized)
struct ReceiptsTests {
    static let twilioToken = "twilio-auth-token-0123"
    static let metaSecret = "meta-app-secret-0123"
    static let receiptSecret = "whsec_" + Data(repeating: 9, count: 32).base64EncodedString()

    /// The header value a provider would send, from `scripts/testservers/provider_sign.py`.
    static func sign(_ arguments: [String], body: Data = Data(), logs: URL) async throws -> String {
        let script = Paths.root.appendingPathComponent("scripts/testservers/provider_sign.py").path
        let child = try ChildProcess("/usr/bin/env", ["python3", script] + arguments, logs: logs, name: "sign-\(UUID().uuidString.prefix(4))",
                                     stdin: body)
        #expect(try await child.wait() == 0, "\(child.stderr)")
        return child.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A bounce as Postfix writes one, about the email with this Message-ID.
    static func bounce(messageID: String, recipient: String, status: String = "5.1.1") -> Data {
        Data("""
            From: MAILER-DAEMON@mx.example\r
            To: orders@northwind.example\r
            Subject: Undelivered Mail Returned to Sender\r
            MIME-Version: 1.0\r
            Content-Type: multipart/report; report-type=delivery-status; boundary="8F2A.1795000000/mx.example"\r
            \r
            --8F2A.1795000000/mx.example\r
            Content-Description: Notification\r
            Content-Type: text/plain; charset=us-ascii\r
            \r
            I'm sorry to have to inform you that your message could not be delivered to one or more recipients.\r
            \r
            --8F2A.1795000000/mx.example\r
            Content-Description: Delivery report\r
            Content-Type: message/delivery-status\r
            \r
            Reporting-MTA: dns; mx.example\r
            X-Postfix-Queue-ID: 8F2A\r
            \r
            Final-Recipient: rfc822; \(recipient)\r
            Action: failed\r
            Status: \(status)\r
            Remote-MTA: dns; mail.example.com\r
            Diagnostic-Code: smtp; 550 \(status) <\(recipient)>: Recipient address rejected: User unknown\r
            \r
            --8F2A.1795000000/mx.example\r
            Content-Description: Undelivered Message Headers\r
            Content-Type: text/rfc822-headers\r
            \r
            From: Northwind <orders@northwind.example>\r
            To: \(recipient)\r
            Message-ID: \(messageID)\r
            Subject: Thank you for your order\r
            \r
            --8F2A.1795000000/mx.example--\r

            """.utf8)
    }

    @Test func aBouncedEmailGoesOnBySMSAndTheAddressStaysClosed() async throws {
        let directory = try Paths.temporaryDirectory("receipts-dsn")
        let daemon = try await HTTPAPITests.start(directory)
        func post(_ lines: [String]) async throws {
            let reply = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                    body: Data(lines.joined(separator: "\n").utf8))
            #expect(reply.status == 201, "\(reply.text)")
            try await idle()
        }
        func idle() async throws {
            let idle = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
            #expect(idle.status == 0, "\(idle.stdout)")
        }
        let order = #"{"customer_id":"c-r","items":[{"sku":"MUG","name":"Mug","quantity":1,"unit_price":12}],"total":12,"currency":"EUR"}"#
        try await post([
            HTTPAPITests.event("r-1", "customer.registered", "c-r",
                               #"{"name":"Rae","email":"rae@example.com","phone":"+447700900555","preferences":{"channels":["email","sms"],"consent":{"sms":true}}}"#),
            HTTPAPITests.event("r-2", "order.placed", "o-r1", order),
        ])
        let store = try Store(path: try #require(daemon.env["DATABASE_PATH"]))
        let first = try #require(try store.messages(subjectID: "o-r1").first { $0.workflow == "order_confirmation" })
        #expect(first.state == .sent && first.channel == "email")
        let mail = try String(contentsOf: directory.appendingPathComponent("spool/email/\(first.key).eml"), encoding: .utf8)
        let messageID = try #require(mail.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }).dropFirst("Message-ID: ".count)
        let report = Self.bounce(messageID: String(messageID), recipient: "rae@example.com")
        let bounces = "\(daemon.base)/v1/receipts/bounces"

        // Only the shop's own inbound mail may report bounces, and only about its messages.
        #expect(try await HTTPAPITests.call("POST", bounces, type: "message/rfc822", body: report).status == 401)
        let stranger = Self.bounce(messageID: "<order_confirmation.ffff@northwind.example>", recipient: "rae@example.com")
        #expect(try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822", body: stranger).status == 404)
        let junk = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822", body: Data("hello".utf8))
        #expect(junk.status == 200 && junk.text.contains("\"recorded\":false") && junk.text.contains("multipart/report"), "\(junk.text)")

        var reply = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822", body: report)
        #expect(reply.status == 200 && reply.text.contains("\"recorded\":true"), "\(reply.text)")
        reply = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822", body: report)
        #expect(reply.status == 200 && reply.text.contains("\"recorded\":false"), "the same report twice is stored once: \(reply.text)")
        try await idle()

        // The confirmation went on by SMS, its history saying why.
        let moved = try #require(try store.message(id: first.id))
        #expect(moved.state == .sent && moved.channel == "sms", "\(moved.state) \(String(describing: moved.channel)) \(moved.lastError ?? "")")
        let history = try store.attempts(messageID: first.id)
        #expect(history.map(\.outcome) == ["sent", "receipt: bounced (hard)", "sent"], "\(history.map(\.outcome))")
        #expect(history[1].detail?.contains("550 5.1.1") == true)
        // The receipt is in the log, its address and diagnostic sealed with the customer's key.
        let logged = try await store.pool.read { db in try Data.fetchAll(db, sql: "SELECT body FROM events WHERE type = 'message.bounced'") }
        #expect(logged.count == 1 && !logged.contains { String(decoding: $0, as: UTF8.self).contains("rae@example.com") })
        reply = try await HTTPAPITests.call("GET", "\(daemon.base)/v1/suppressions", token: HTTPAPITests.reader)
        #expect(reply.status == 200 && reply.text.contains("\"address\":\"rae@example.com\"") && reply.text.contains("\"reason\":\"bounced\""),
                "\(reply.text)")

        // The next order's confirmation, an email-only workflow, goes by SMS from the start.
        try await post([HTTPAPITests.event("r-3", "order.placed", "o-r2", order)])
        let second = try #require(try store.messages(subjectID: "o-r2").first { $0.workflow == "order_confirmation" })
        #expect(second.state == .sent && second.channel == "sms", "\(second.state) \(second.lastError ?? "")")
        let listed = try await ChildProcess.tidings(["suppressions", "list"], environment: daemon.env, logs: directory)
        #expect(listed.status == 0 && listed.stdout.contains("email\trae@example.com\tcustomer c-r\tbounced"), "\(listed.stdout)\(listed.stderr)")

        // Lifting it takes the admin scope; then email is used again.
        let lift = "\(daemon.base)/v1/suppressions/email/rae%40example.com"
        #expect(try await HTTPAPITests.call("DELETE", lift, token: HTTPAPITests.reader).status == 403)
        reply = try await HTTPAPITests.call("DELETE", lift, token: HTTPAPITests.admin)
        #expect(reply.status == 200, "\(reply.text)")
        try await post([HTTPAPITests.event("r-4", "order.placed", "o-r3", order)])
        #expect(try await HTTPAPITests.call("DELETE", lift, token: HTTPAPITests.admin).status == 404)
        let third = try #require(try store.messages(subjectID: "o-r3").first { $0.workflow == "order_confirmation" })
        #expect(third.channel == "email" && third.state == .sent)

        // Without another channel, a bounced message stays bounced and says so.
        try await post([
            HTTPAPITests.event("r-5", "customer.registered", "c-s", #"{"name":"Sol","email":"sol@example.com"}"#),
            HTTPAPITests.event("r-6", "order.placed", "o-s1", order.replacingOccurrences(of: "c-r", with: "c-s")),
        ])
        let lone = try #require(try store.messages(subjectID: "o-s1").first { $0.workflow == "order_confirmation" })
        reply = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822",
                                            body: Self.bounce(messageID: "<\(lone.key)@northwind.example>", recipient: "sol@example.com"))
        #expect(reply.status == 200, "\(reply.text)")
        try await idle()
        let page = try await HTTPAPITests.call("GET", "\(daemon.base)/")
        #expect(page.text.contains("<table id=\"delivery\">") && page.text.contains("<td>order_confirmation</td>"), "\(page.text)")
        let bounced = try #require(try store.message(id: lone.id))
        #expect(bounced.state == .bounced && bounced.lastError?.contains("bounced (hard)") == true, "\(bounced.state) \(bounced.lastError ?? "")")
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }

    @Test func providersReceiptsAreCheckedWithTheirOwnSignatures() async throws {
        let directory = try Paths.temporaryDirectory("receipts-providers")
        let sink = try await LoopbackServer.http(logs: directory)
        defer { Task { try? await sink.stop() } }
        let daemon = try await HTTPAPITests.start(directory, extra: [
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "twilio", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(sink.port)/Messages.json",
            "SMS_WEBHOOK_FROM": "+447700900000", "SMS_WEBHOOK_USERNAME": "AC0123", "SMS_WEBHOOK_PASSWORD": Self.twilioToken,
            "MESSENGER_TRANSPORT": "webhook", "MESSENGER_WEBHOOK_URL": "http://127.0.0.1:\(sink.port)/me/messages",
            "MESSENGER_WEBHOOK_APP_SECRET": Self.metaSecret, "MESSENGER_WEBHOOK_VERIFY_TOKEN": "verify-me-0123",
            "RECEIPTS_URL": "http://127.0.0.1/tidings/v1/receipts", "RECEIPTS_SECRET": Self.receiptSecret,
        ])
        let order = #"{"customer_id":"c-p","items":[{"sku":"MUG","name":"Mug","quantity":1,"unit_price":12}],"total":12,"currency":"EUR"}"#
        let reply = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                body: Data([
            HTTPAPITests.event("p-1", "customer.registered", "c-p",
                               #"{"name":"Pia","email":"pia@example.com","phone":"+447700900777","preferences":{"channels":["sms"],"consent":{"sms":true}}}"#),
            HTTPAPITests.event("p-2", "order.placed", "o-p1", order),
            HTTPAPITests.event("p-3", "order.shipped", "o-p1", #"{"carrier":"DHL"}"#),
            HTTPAPITests.event("p-4", "customer.registered", "c-m",
                               #"{"name":"Mo","messenger_id":"psid-77","preferences":{"channels":["messenger"],"consent":{"messenger":true}}}"#),
            HTTPAPITests.event("p-5", "order.placed", "o-m1", order.replacingOccurrences(of: "c-p", with: "c-m")),
            HTTPAPITests.event("p-6", "order.shipped", "o-m1", #"{"carrier":"DHL"}"#),
        ].joined(separator: "\n").utf8))
        #expect(reply.status == 201, "\(reply.text)")
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)")
        let store = try Store(path: try #require(daemon.env["DATABASE_PATH"]))
        let shipped = try #require(try store.messages(subjectID: "o-p1").first { $0.workflow == "order_shipped" })
        #expect(shipped.channel == "sms" && shipped.state == .sent)

        // Twilio was told where to report: the callback URL carries the message's key.
        let request = try #require(try sink.received().first { $0["path"]?.stringValue == "/Messages.json" })
        let form = try #require(FormEncoding.pairs(Array((request["body"]?.stringValue ?? "").utf8)))
        let callback = try #require(form.first { $0.0 == "StatusCallback" }?.1)
        #expect(callback == "http://127.0.0.1/tidings/v1/receipts/twilio?key=\(shipped.key)")
        let query = try #require(callback.split(separator: "?", maxSplits: 1).last)
        let fields = ["MessageSid=SM0123", "MessageStatus=delivered", "To=+447700900777", "From=+447700900000", "AccountSid=AC0123"]
        let body = Data(fields.map { $0.replacingOccurrences(of: "+", with: "%2B") }.joined(separator: "&").utf8)
        let forged = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts/twilio?\(query)", type: "application/x-www-form-urlencoded",
                                                 body: body, headers: ["X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
        #expect(forged.status == 403)
        let signature = try await Self.sign(["twilio", Self.twilioToken, callback] + fields, logs: directory)
        var answer = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts/twilio?\(query)", type: "application/x-www-form-urlencoded",
                                                 body: body, headers: ["X-Twilio-Signature": signature])
        #expect(answer.status == 200 && answer.text.contains("\"recorded\":true"), "\(answer.text)")

        // Messenger: the shipped notice went to Mo's page-scoped id; a delivery notification covers it.
        let confirmation = try #require(try store.messages(subjectID: "o-p1").first { $0.workflow == "order_confirmation" })
        #expect(confirmation.channel == "email", "order confirmations are email-only in the shipped workflows")
        let watermark = Int64((Date().timeIntervalSince1970 + 60) * 1000)
        let meta = Data(#"{"object":"page","entry":[{"id":"page","time":1,"messaging":[{"sender":{"id":"psid-77"},"recipient":{"id":"page"},"delivery":{"watermark":\#(watermark)}}]}]}"#.utf8)
        answer = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts/messenger", type: "application/json", body: meta,
                                             headers: ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)])
        #expect(answer.status == 403)
        answer = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts/messenger", type: "application/json", body: meta,
                                             headers: ["X-Hub-Signature-256": try await Self.sign(["meta", Self.metaSecret], body: meta, logs: directory)])
        #expect(answer.status == 200, "\(answer.text)")
        answer = try await HTTPAPITests.call("GET", "\(daemon.base)/v1/receipts/messenger?hub.mode=subscribe&hub.verify_token=verify-me-0123&hub.challenge=42")
        #expect(answer.status == 200 && answer.text == "42")
        #expect(try await HTTPAPITests.call("GET", "\(daemon.base)/v1/receipts/messenger?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42").status == 403)

        // With receipts.secret, an email's Message-ID carries a tag: a bounce must return it.
        let spooled = try String(contentsOf: directory.appendingPathComponent("spool/email/\(confirmation.key).eml"), encoding: .utf8)
        let tagged = String(try #require(spooled.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }).dropFirst("Message-ID: ".count))
        #expect(tagged.hasPrefix("<\(confirmation.key).") && tagged.count == confirmation.key.count + 17 + "<@northwind.example>".count, "\(tagged)")
        let bounces = "\(daemon.base)/v1/receipts/bounces"
        for forged in ["<\(confirmation.key)@northwind.example>", "<\(confirmation.key).0123456789abcdef@northwind.example>"] {
            let refused = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822",
                                                      body: ReceiptsTests.bounce(messageID: forged, recipient: "pia@example.com"))
            #expect(refused.status == 403, "\(forged): \(refused.text)")
        }
        answer = try await HTTPAPITests.call("POST", bounces, token: HTTPAPITests.ingest, type: "message/rfc822",
                                             body: ReceiptsTests.bounce(messageID: tagged, recipient: "pia@example.com", status: "4.4.1")
                                                .replacingAction(with: "delayed"))
        #expect(answer.status == 200 && answer.text.contains("\"recorded\":false"), "a true tag is taken (delayed: nothing to record): \(answer.text)")

        // A generic receipt, signed per Standard Webhooks by the reference library: the email bounced soft.
        let generic = Data(#"{"key":"\#(confirmation.key)","status":"bounced","kind":"soft","reason":"mailbox full"}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let webhookSignature = try await Self.sign(["standard", Self.receiptSecret, "rcpt-1", "\(now)"], body: generic, logs: directory)
        answer = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts", type: "application/json", body: generic, headers: [
            "webhook-id": "rcpt-1", "webhook-timestamp": "\(now - 600)", "webhook-signature": webhookSignature,
        ])
        #expect(answer.status == 403, "a stale timestamp")
        answer = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/receipts", type: "application/json", body: generic, headers: [
            "webhook-id": "rcpt-1", "webhook-timestamp": "\(now)", "webhook-signature": webhookSignature,
        ])
        #expect(answer.status == 200, "\(answer.text)")
        let settled = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
        #expect(settled.status == 0)
        #expect(try store.message(id: shipped.id)?.state == .delivered)
        let retrying = try #require(try store.message(id: confirmation.id))
        #expect(retrying.state == .retrying && retrying.lastError?.contains("mailbox full") == true, "\(retrying.state) \(retrying.lastError ?? "")")
        let messenger = try store.messages(customerID: "c-m").filter { $0.channel == "messenger" }
        #expect(!messenger.isEmpty && messenger.allSatisfy { $0.state == .delivered }, "\(messenger.map(\.state))")
        daemon.child.signal(SIGTERM)
        #expect(try await daemon.child.wait(timeout: 30) == 0)
    }
}

extension Data {
    /// The same report with another `Action:` (a test's shortcut).
    func replacingAction(with action: String) -> Data {
        Data(String(decoding: self, as: UTF8.self).replacingOccurrences(of: "Action: failed", with: "Action: \(action)").utf8)
    }
}
