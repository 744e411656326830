import Foundation
import Testing
import TidingsCore

/// The support console in a real headless Chromium driven by Selenium
/// (`scripts/testservers/console_browser.py`): what a support agent does and sees, and
/// axe-core's accessibility rules on each page.
@Suite("Console in a browser", .serialized)
struct ConsoleBrowserTests {
    @Test func anAgentLogsInSearchesAndReadsTheAcknowledgementAsSent() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "chromedriver is not installed: run scripts/deps.sh --test")
        let directory = try Paths.temporaryDirectory("console-browser")
        let daemon = try await HTTPAPITests.start(directory)
        let events = [
            HTTPAPITests.event("c-9", "customer.registered", "c-9", #"{"name":"Ann <b>Example</b>","email":"ann9@example.com"}"#),
            HTTPAPITests.event("t-9", "ticket.opened", "t-9", #"{"customer_id":"c-9","kind":"complaint","summary":"Chipped mug"}"#),
        ]
        let posted = try await HTTPAPITests.call("POST", "\(daemon.base)/v1/events", token: HTTPAPITests.ingest, type: "application/x-ndjson",
                                                 body: Data(events.joined(separator: "\n").utf8))
        #expect(posted.status == 201, "\(posted.text)")
        _ = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: daemon.env, logs: directory)

        let screenshot = directory.appendingPathComponent("console.png")
        let script = Paths.root.appendingPathComponent("scripts/testservers/console_browser.py").path
        let browser = try ChildProcess("/usr/bin/env", ["python3", script, daemon.base, HTTPAPITests.reader, "ann9@example.com", "c-9", screenshot.path],
                                       logs: directory, name: "console-browser")
        let status = try await browser.wait(timeout: 120)
        daemon.child.signal(SIGTERM)
        _ = try await daemon.child.wait(timeout: 30)
        #expect(status == 0, "\(browser.stdout)\n\(browser.stderr.suffix(2_000))")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "a screenshot of the rendered timeline")
    }
}
