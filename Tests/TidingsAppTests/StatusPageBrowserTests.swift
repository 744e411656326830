import Foundation
import Testing
import TidingsCore

/// The status page in a real headless Chromium (Debian's `chromium`): what an operator sees.
@Suite("Status page in a browser", .serialized)
struct StatusPageBrowserTests {
    @Test func anOperatorSeesTheOutboxDeadMessagesAndPromisesAtRisk() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let browser = try #require(chromium, "chromium is not installed: run scripts/deps.sh --test")
        let directory = try Paths.temporaryDirectory("page")
        let http = try await LoopbackServer.http(logs: directory)
        // SMS to a receiver that refuses with 400: out-for-delivery notices (SMS only) die.
        let daemon = try await HTTPAPITests.start(directory, extra: [
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/status/400?echo=1",
        ])
        // Ten days back: its first response (8 working hours) is overdue on any day the test
        // runs. 23 hours back was due within the hour on weekdays only: on a Saturday
        // morning, a complaint from Friday morning is due on Monday.
        let opened = Timestamp.format(Date().addingTimeInterval(-10 * 86_400))
        let events = [
            HTTPAPITests.event("c-7", "customer.registered", "c-7",
                               #"{"name":"Ann","email":"ann@example.com","phone":"+447700900123","preferences":{"channels":["sms"],"consent":{"sms":true}}}"#),
            HTTPAPITests.event("o-7", "order.placed", "o-7",
                               #"{"customer_id":"c-7","total":5,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":5}]}"#),
            HTTPAPITests.event("o-7-ofd", "order.out_for_delivery", "o-7", "{}"),
            #"{"specversion":"1.0","id":"t-7","source":"urn:http-test","type":"ticket.opened","subject":"t-7","time":"\#(opened)","data":{"customer_id":"c-7","kind":"complaint","summary":"Broken"}}"#,
        ]
        let reply = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                body: Data(events.joined(separator: "\n").utf8))
        #expect(reply.status == 201, "\(reply.text)")
        _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)

        let screenshot = directory.appendingPathComponent("status.png")
        let arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=\(directory.appendingPathComponent("chromium").path)", "--window-size=1200,1000"]
        let dom = try ChildProcess(browser, arguments + ["--dump-dom", "\(daemon.base)/"], logs: directory, name: "chromium-dom")
        #expect(try await dom.wait(timeout: 60) == 0, "\(dom.stderr.suffix(1_000))")
        let shot = try ChildProcess(browser, arguments + ["--screenshot=\(screenshot.path)", "\(daemon.base)/"], logs: directory,
                                    name: "chromium-shot")
        _ = try await shot.wait(timeout: 60)
        daemon.child.signal(SIGTERM)
        _ = try await daemon.child.wait(timeout: 30)
        try await http.stop()

        // What the browser rendered, as text a person reads.
        let page = dom.stdout
        #expect(page.contains("<title>Tidings status</title>"))
        #expect(page.contains("Dead messages"))
        #expect(page.contains("out_for_delivery"), "the dead out-for-delivery notice is listed")
        #expect(page.contains("sms: refused (HTTP 400)"), "with the class of its reason")
        #expect(!page.contains("+447700900123"), "no phone number (a receiver's error body may quote it) without a token")
        #expect(page.contains("Promises at risk"))
        #expect(page.contains("T-7"), "the complaint opened ten days ago is overdue")
        #expect(page.contains("first response"))
        #expect(page.contains("messages sent in the last hour"))
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG screenshot")
        #expect(png.count > 10_000, "the screenshot shows a rendered page")
    }
}
