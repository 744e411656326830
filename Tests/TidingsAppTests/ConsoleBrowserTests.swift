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
        // SMS to a receiver that refuses with 400: SMS messages die, for the operator to retry.
        // The simulated clock lives through the example day as the demo does, hour by hour.
        let http = try await LoopbackServer.http(logs: directory)
        let extra = ["SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_WEBHOOK_URL": "http://127.0.0.1:\(http.port)/status/400",
                     "CLOCK_SOURCE": "database"]
        _ = try await ChildProcess.tidings(["clock", "set", "2026-11-23T07:00:00Z"], environment: Paths.environment(in: directory).merging(extra) { $1 },
                                           logs: directory)
        let daemon = try await HTTPAPITests.start(directory, extra: extra)
        try await Self.liveThroughTheExampleDay(daemon, logs: directory)
        // A customer whose only channel is SMS: their out-for-delivery notice (SMS only) dies.
        let events = [
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
        let browser = try ChildProcess("/usr/bin/env", ["python3", script, daemon.base, HTTPAPITests.reader, HTTPAPITests.admin, "Camille.Dubois@example.net", "c-1004",
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

    /// The example day (`config/examples/day.ndjson`) posted hour by hour, the clock set to
    /// each hour first and the daemon idle before the next, as `make demo` sends it.
    static func liveThroughTheExampleDay(_ daemon: HTTPAPITests.Daemon, logs: URL) async throws {
        let day = try String(contentsOf: Paths.root.appendingPathComponent("config/examples/day.ndjson"), encoding: .utf8)
        var hours: [String: [String]] = [:]
        for line in day.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let time = try #require(line.firstMatch(of: /"time":"([0-9T:-]{13})/)?.1, "an example event without a time: \(line)")
            hours[String(time), default: []].append(String(line))
        }
        for (hour, lines) in hours.sorted(by: { $0.key < $1.key }) {
            _ = try await ChildProcess.tidings(["clock", "set", "\(hour):00:00Z"], environment: daemon.env, logs: logs)
            let posted = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                     body: Data(lines.joined(separator: "\n").utf8))
            #expect(posted.status == 201, "\(hour): \(posted.text)")
            _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: logs)
        }
    }
}
