import Foundation
import Testing
@testable import TidingsCore

/// What receipts say and what they do: bounce reports read, providers' statuses mapped, the
/// message moved on, the address suppressed and passed over afterwards.
@Suite("Receipts")
struct ReceiptTests {
    let now = Fixtures.t0
    let key = "order_confirmation.0123abcd"

    static func dsn(action: String = "failed", status: String = "5.1.1", messageID: String = "<order_confirmation.0123abcd@northwind.example>",
                    recipient: String = "ann@example.com") -> [UInt8] {
        Array("""
            From: MAILER-DAEMON@mx.example\r
            Subject: Undelivered Mail Returned to Sender\r
            MIME-Version: 1.0\r
            Content-Type: multipart/report; report-type=delivery-status;\r
            \tboundary="B0UND.1"\r
            \r
            This is a MIME-encapsulated message.\r
            \r
            --B0UND.1\r
            Content-Type: text/plain\r
            \r
            I'm sorry to have to inform you that your message could not be delivered.\r
            \r
            --B0UND.1\r
            Content-Type: message/delivery-status\r
            \r
            Reporting-MTA: dns; mx.example\r
            Arrival-Date: Mon, 23 Nov 2026 09:30:00 +0000\r
            \r
            Final-Recipient: rfc822; \(recipient)\r
            Original-Recipient: rfc822;\(recipient)\r
            Action: \(action)\r
            Status: \(status)\r
            Diagnostic-Code: smtp; 550 5.1.1 <\(recipient)>: Recipient address rejected:\r
             User unknown in local recipient table\r
            \r
            --B0UND.1\r
            Content-Type: text/rfc822-headers\r
            \r
            From: Northwind <orders@northwind.example>\r
            To: \(recipient)\r
            Subject: Your order\r
            Message-ID: \(messageID)\r
            \r
            --B0UND.1--\r
            """.utf8)
    }

    @Test func aDeliveryStatusNotificationNamesTheMessageAndTheFailure() throws {
        let report = try BounceReport.parse(Self.dsn())
        #expect(report.key == key && !report.isComplaint)
        let receipt = try #require(report.receipt(for: ("c-1", "Ann@Example.com")))
        #expect(receipt.status == .bounced && receipt.kind == .hard && receipt.channel == .email && receipt.address == "ann@example.com")
        #expect(receipt.reason?.contains("5.1.1 smtp; 550 5.1.1") == true && receipt.reason?.contains("User unknown") == true, "\(receipt.reason ?? "")")
        #expect(receipt.suppresses)
        let soft = try #require(try BounceReport.parse(Self.dsn(status: "4.2.2")).receipt(for: ("c-1", "ann@example.com")))
        #expect(soft.status == .bounced && soft.kind == .soft && !soft.suppresses)
        #expect(try BounceReport.parse(Self.dsn(action: "delayed", status: "4.4.1")).receipt(for: ("c-1", "ann@example.com")) == nil)
        #expect(try BounceReport.parse(Self.dsn()).receipt(for: ("c-1", "someone.else@example.com")) == nil, "a report about another address")
        #expect(try BounceReport.parse(Self.dsn(action: "delivered", status: "2.0.0")).receipt(for: ("c-1", "ann@example.com"))?.status == .delivered)
    }

    @Test func anAbuseReportIsAComplaint() throws {
        let arf = Array("""
            Content-Type: multipart/report; report-type=feedback-report; boundary=part\r
            \r
            --part\r
            Content-Type: text/plain\r
            \r
            This is an email abuse report.\r
            --part\r
            Content-Type: message/feedback-report\r
            \r
            Feedback-Type: abuse\r
            User-Agent: SomeGenerator/1.0\r
            Version: 1\r
            --part\r
            Content-Type: message/rfc822\r
            \r
            Message-ID: <\(key)@northwind.example>\r
            Subject: Your order\r
            \r
            Hello\r
            --part--\r
            """.utf8)
        let report = try BounceReport.parse(arf)
        let receipt = try #require(report.receipt(for: ("c-1", "ann@example.com")))
        #expect(report.isComplaint && receipt.status == .complained && receipt.suppresses && receipt.key == key)
    }

    @Test func whatIsNotAReportIsRefusedSayingWhy() {
        let cases: [(String, String)] = [
            ("Subject: hi\r\n\r\nhello", "not a multipart/report"),
            ("Content-Type: multipart/report\r\n\r\n", "no boundary"),
            ("Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--x--", "Message-ID"),
        ]
        for (text, why) in cases {
            #expect(throws: BounceReport.ParseError.self) { try BounceReport.parse(Array(text.utf8)) }
            do { _ = try BounceReport.parse(Array(text.utf8)) } catch { #expect(error.description.contains(why), "\(error)") }
        }
    }

    @Test func twilioStatusesBecomeReceipts() {
        func receipt(_ status: String, _ code: String? = nil) -> Receipt? {
            var pairs = [("MessageSid", "SM1"), ("MessageStatus", status), ("To", "+447700900123")]
            if let code { pairs.append(("ErrorCode", code)) }
            return TwilioStatus.receipt(pairs, key: key, customerID: "c-1")
        }
        #expect(receipt("delivered")?.status == .delivered)
        #expect(receipt("sent") == nil && receipt("queued") == nil)
        #expect(receipt("undelivered", "30005").map { ($0.status, $0.kind) } ?? (.delivered, nil) == (.bounced, .hard))
        #expect(receipt("undelivered", "30003").map { ($0.status, $0.kind) } ?? (.delivered, nil) == (.bounced, .soft))
        #expect(receipt("undelivered", "30007")?.status == .failed)
        #expect(receipt("failed", "21211").map { ($0.status, $0.kind) } ?? (.delivered, nil) == (.bounced, .hard))
        #expect(receipt("failed")?.status == .failed)
        #expect(receipt("undelivered", "30005")?.reason == "Twilio error 30005")
    }

    @Test func messengerNotificationsCoverWhatCameBeforeTheirWatermark() throws {
        let body = try JSONValue.parse(Array(#"""
            {"object":"page","entry":[{"id":"p","time":1,"messaging":[
              {"sender":{"id":"psid-1"},"recipient":{"id":"p"},"delivery":{"mids":["m1"],"watermark":1795000060000}},
              {"sender":{"id":"psid-2"},"recipient":{"id":"p"},"read":{"watermark":1795000120000}},
              {"sender":{"id":"psid-3"},"recipient":{"id":"p"},"message":{"text":"hi"}},
              {"sender":{"id":""},"delivery":{"watermark":5}}
            ]}]}
            """#.utf8))
        let found = MessengerDelivery.notifications(in: body)
        #expect(found.map(\.recipient) == ["psid-1", "psid-2"])
        #expect(found.first?.watermark == now.addingTimeInterval(60))
    }

    // MARK: the message moves on

    let email = Route(channel: .email, recipient: "ann@example.com")
    let sms = Route(channel: .sms, recipient: "+447700900123")
    let policy = RetryPolicy(maxAttempts: 3, initialDelay: 60, maximumDelay: 600)

    func receipt(_ status: Receipt.Status, _ kind: Receipt.Kind? = nil, channel: Channel = .email) -> Receipt {
        Receipt(key: key, status: status, kind: kind, channel: channel, address: "ann@example.com", customerID: "c-1", reason: "550 5.1.1",
                provider: "dsn")
    }

    func sent(fallbacks: [Route] = []) -> DeliveryProgress {
        DeliveryProgress(state: .sent, route: email, fallbacks: fallbacks, attempts: 1, dueAt: now, routeStartedAt: now)
    }

    @Test func receiptsMoveAnAcceptedMessageOn() throws {
        let receive = { (progress: DeliveryProgress, receipt: Receipt, canResend: Bool) in
            OutboxStateMachine.receive(progress, receipt: receipt, now: self.now, policy: self.policy, canResend: canResend)
        }
        #expect(receive(sent(), receipt(.delivered), true)?.state == .delivered)
        #expect(receive(sent(), receipt(.complained), true)?.state == .delivered, "a complaint means it arrived")
        let soft = try #require(receive(sent(), receipt(.bounced, .soft), true))
        // On the schedule (60 s), spread by a jitter drawn from the key: the same on every run.
        #expect(soft.state == .retrying && (48...72).contains(soft.dueAt.timeIntervalSince(now)) && soft.lastError?.contains("bounced (soft)") == true)
        #expect(receive(sent(), receipt(.bounced, .soft), true)?.dueAt == soft.dueAt)
        var deliveredFirst = sent()
        deliveredFirst.state = .delivered
        #expect(receive(deliveredFirst, receipt(.bounced, .soft), true) == nil, "a soft bounce does not undo a delivery")
        var elsewhere = receipt(.bounced, .hard)
        elsewhere.address = "old@example.com"
        #expect(receive(sent(fallbacks: [sms]), elsewhere, true) == nil, "a receipt about another address than the route's")
        let hard = try #require(receive(sent(fallbacks: [sms]), receipt(.bounced, .hard), true))
        #expect(hard.state == .pending && hard.route == sms && hard.attempts == 0 && hard.lastError?.contains("falling back to sms") == true)
        #expect(receive(sent(), receipt(.bounced, .hard), true)?.state == .bounced)
        #expect(receive(sent(fallbacks: [sms]), receipt(.failed), true)?.route == sms)
        #expect(receive(sent(fallbacks: [sms]), receipt(.bounced, .soft), false)?.state == .bounced, "nothing left to send again")
        // What changes nothing: a receipt about an earlier route, one repeated, one for a message never accepted.
        #expect(receive(sent(), receipt(.delivered, channel: .sms), true) == nil)
        var delivered = sent()
        delivered.state = .delivered
        #expect(receive(delivered, receipt(.delivered), true) == nil)
        var pending = sent()
        pending.state = .pending
        #expect(receive(pending, receipt(.bounced, .hard), true) == nil)
    }

    @Test func aSuppressedAddressIsPassedOverAndItsQueuedMessagesMoveOn() throws {
        var customer = Fixtures.customer(channels: ["email", "sms"], consent: ["sms": true])
        customer.apply(receipt(.bounced, .hard), at: now)
        let suppression = try #require(customer.suppression(on: .email))
        #expect(suppression.reason == .bounced && suppression.key == key)
        let selection = ChannelSelection.select([.preferred], for: customer)
        #expect(selection.channels == [.sms])
        #expect(selection.passedOver.first?.hasPrefix("email: address suppressed (bounced") == true, "\(selection.passedOver)")

        var queued = DeliveryProgress(state: .pending, route: email, fallbacks: [sms], attempts: 0, dueAt: now)
        #expect(OutboxStateMachine.reroute(queued, around: suppression, now: now)?.route == sms)
        queued.fallbacks = []
        #expect(OutboxStateMachine.reroute(queued, around: suppression, now: now)?.state == .skipped)
        var sentAlready = queued
        sentAlready.state = .sent
        #expect(OutboxStateMachine.reroute(sentAlready, around: suppression, now: now) == nil)

        // A new address is not suppressed; lifting opens the old one again.
        var moved = customer
        moved.email = "ann@new.example"
        #expect(moved.suppression(on: .email) == nil)
        customer.lift(channel: .email, address: "ANN@example.com", at: now)
        #expect(customer.suppressed.isEmpty && ChannelSelection.select([.preferred], for: customer).channels == [.email, .sms])
    }

    @Test func aComplaintClosesTheChannelAndWithdrawsConsent() {
        var customer = Fixtures.customer(channels: ["sms", "email"], consent: ["sms": true])
        var complaint = receipt(.complained, channel: .sms)
        complaint.address = "+447700900123"
        customer.apply(complaint, at: now)
        #expect(!customer.preferences.consent.contains(.sms) && customer.suppression(on: .sms)?.reason == .complained)
        // A receipt about an address the customer no longer has changes nothing.
        var other = Fixtures.customer()
        var old = receipt(.bounced, .hard)
        old.address = "old@example.com"
        other.apply(old, at: now)
        #expect(other.suppressed.isEmpty)
    }

    @Test func receiptsAndLiftsAreEventsTheReducerReplays() throws {
        let customer = Fixtures.customer(channels: ["email", "sms"], consent: ["sms": true])
        let event = receipt(.bounced, .hard).event(id: "dsn-1", at: now)
        #expect(event.type == "message.bounced" && event.subject == key && event.source == "urn:tidings:receipts:dsn")
        #expect(Receipt(event) == receipt(.bounced, .hard))
        #expect(EventValidator.reservation(of: event) != nil, "producers may not send receipts")
        let bounced = try #require(Reducers.customer(customer, StoredEvent(position: 2, recordedAt: now, event: event)))
        #expect(bounced.suppression(on: .email) != nil)
        let lift = Suppression.lifted(customerID: "c-1", channel: .email, address: "ann@example.com", id: "lift-1", at: now)
        #expect(EventValidator.reservation(of: lift) != nil)
        let lifted = try #require(Reducers.customer(bounced, StoredEvent(position: 3, recordedAt: now, event: lift)))
        #expect(lifted.suppressed.isEmpty)
        // Kept through the model's own JSON coding.
        #expect(try Customer(document: bounced.document()) == bounced)
        #expect(try Customer(document: customer.document()).json == customer.json)
    }

    @Test func anEssentialMessageIsNotForcedOntoASuppressedEmail() throws {
        var customer = Fixtures.customer(channels: ["email"], phone: nil)
        customer.apply(receipt(.bounced, .hard), at: now)
        let engine = WorkflowEngine(workflows: WorkflowSet(workflows: [
            Workflow(id: "order_confirmation", on: "order.placed", category: .orderStatus, channels: [.preferred], template: "order_confirmation"),
        ]), shop: Fixtures.shop)
        let order = Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData))
        let intents = engine.intents(for: Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData), customer: customer, order: order,
                                     ticket: nil, now: now)
        #expect(intents.count == 1 && intents[0].channel == nil, "\(intents.map(\.skipReason))")
        #expect(intents.first?.skipReason?.contains("address suppressed") == true, "\(intents.first?.skipReason ?? "")")
    }
}
