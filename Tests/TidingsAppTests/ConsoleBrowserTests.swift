import Foundation
import Testing
import TidingsCore

/// The support console in a real headless Chromium driven by Selenium
/// (`scripts/testservers/console_browser.py`): what a support agent and an operator do and
/// see, and axe-core's accessibility rules on each page.
@Suite("Console in a browser", .serialized)
struct ConsoleBrowserTests {
    @Test func anAgentLogsInSearchesAndReadsTheAcknowledgementAsSent() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "chromedriver is not installed: run scripts/deps.sh --test")
        let directory = try Paths.temporaryDirectory("console-browser")
        // SMS to a receiver that refuses with 400: the out-for-delivery notice (SMS only) dies.
        let http = try await LoopbackServer.http(logs: directory)
        let daemon = try await HTTPAPITests.start(directory, extra: [
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/status/400",
        ])
        let events = [
            HTTPAPITests.event("c-9", "customer.registered", "c-9", #"{"name":"Ann <b>Example</b>","email":"ann9@example.com"}"#),
            HTTPAPITests.event("t-9", "ticket.opened", "t-9", #"{"customer_id":"c-9","kind":"complaint","summary":"Chipped mug"}"#),
            HTTPAPITests.event("c-7", "customer.registered", "c-7",
                               #"{"name":"Bo","phone":"+447700900123","preferences":{"channels":["sms"],"consent":{"sms":true}}}"#),
            HTTPAPITests.event("o-7", "order.placed", "o-7",
                               #"{"customer_id":"c-7","total":5,"currency":"EUR","items":[{"sku":"A","name":"Mug","quantity":1,"unit_price":5}]}"#),
            HTTPAPITests.event("o-7-ofd", "order.out_for_delivery", "o-7", "{}"),
        ]
        let posted = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                 body: Data(events.joined(separator: "\n").utf8))
        #expect(posted.status == 201, "\(posted.text)")
        _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)
        let dead = try await HTTPAPITests.call("GET", "\(daemon.base)/v1/deliveries?state=dead", token: HTTPAPITests.reader)
        #expect(dead.text.contains("out_for_delivery"), "a dead message for the operator to retry: \(dead.text)")

        let script = Paths.root.appendingPathComponent("scripts/testservers/console_browser.py").path
        let browser = try ChildProcess("/usr/bin/env", ["python3", script, daemon.base, HTTPAPITests.reader, HTTPAPITests.admin, "ann9@example.com", "c-9",
                                                        directory.path], logs: directory, name: "console-browser")
        let status = try await browser.wait(timeout: 180)
        daemon.child.signal(SIGTERM)
        _ = try await daemon.child.wait(timeout: 30)
        try await http.stop()
        #expect(status == 0, "\(browser.stdout)\n\(browser.stderr.suffix(2_000))")
        for name in ["timeline", "promises"] {
            let png = try Data(contentsOf: directory.appendingPathComponent("\(name).png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "a screenshot of the rendered \(name) page")
        }
    }
}
