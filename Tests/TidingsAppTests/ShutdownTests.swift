import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
import TidingsCore

/// SIGTERM in the middle of everything, ten times in a row: requests arriving, a backlog in the
/// pipeline, sends in flight to a slow receiver. The daemon must stop cleanly within 5 s each
/// time (the services wait for the database suspended, never on a cooperative thread).
@Suite("Graceful stop under load", .serialized)
struct ShutdownTests {
    @Test func sigtermUnderLoadStopsCleanlyWithinFiveSecondsTenTimesInARow() async throws {
        let directory = try Paths.temporaryDirectory("shutdown")
        let receiver = try await LoopbackServer.http(logs: directory)
        let token = "shutdown-token-0123456789"
        let env = Paths.environment(in: directory).merging([
            "HTTP_LISTEN": "127.0.0.1:0", "HTTP_TOKENS": "load ingest \(token)", "DATABASE_SYNCHRONOUS": "normal",
            "SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_PRESET": "generic", "SMS_CONCURRENCY": "16",
            "SMS_WEBHOOK_URL": "http://127.0.0.1:\(receiver.port)/hook?delay=0.05",
        ]) { $1 }
        func event(_ n: Int, _ run: Int) -> String {
            let id = "\(run)-\(n)"
            return #"{"specversion":"1.0","id":"c-\#(id)","source":"urn:load","type":"customer.registered","subject":"c-\#(id)","data":{"phone":"+4477009\#(String(format: "%05d", n))","preferences":{"channels":["sms"],"consent":{"sms":true}}}}"#
                + "\n" + #"{"specversion":"1.0","id":"t-\#(id)","source":"urn:load","type":"ticket.opened","subject":"t-\#(id)","data":{"customer_id":"c-\#(id)","kind":"complaint"}}"#
        }
        for run in 0..<10 {
            // A backlog for the pipeline and the dispatcher.
            let backlog = (0..<1_500).map { event($0, run) }.joined(separator: "\n")
            _ = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(backlog.utf8))
            let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve-\(run)")
            let deadline = Date().addingTimeInterval(30)
            var address: Substring?
            while address == nil, Date() < deadline {
                address = daemon.stderr.split(separator: "\n").last { $0.contains("http listening") }?
                    .split(separator: " ").first { $0.hasPrefix("address=") }?.dropFirst("address=".count)
                try await Task.sleep(for: .milliseconds(20))
            }
            let listening = try #require(address, "run \(run): the daemon did not listen: \(daemon.stderr.suffix(1_000))")
            let url = try #require(URL(string: "http://\(listening)/v1/events"))
            // Requests keep arriving while the daemon is told to stop. (Stopped by a flag, not by
            // cancelling: FoundationNetworking on Linux can deadlock cancelling a request.)
            let done = Atomic<Bool>(false)
            let load = Task {
                var n = 0
                while !done.load(ordering: .relaxed) {
                    var request = URLRequest(url: url, timeoutInterval: 5)
                    request.httpMethod = "POST"
                    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                    request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
                    request.httpBody = Data(event(100_000 + n, run).utf8)
                    _ = try? await URLSession.shared.data(for: request)
                    n += 1
                }
            }
            try await Task.sleep(for: .milliseconds(300 + 50 * run))
            let stopping = Date()
            daemon.signal(SIGTERM)
            let status = try await daemon.wait(timeout: 30)
            let took = Date().timeIntervalSince(stopping)
            done.store(true, ordering: .relaxed)
            await load.value
            #expect(status == 0, "run \(run): exit \(status): \(daemon.stderr.suffix(1_500))")
            #expect(took < 5, "run \(run): took \(took) s to stop: \(daemon.stderr.suffix(1_500))")
            #expect(daemon.stderr.contains("tidings stopped"), "run \(run)")
        }
        try await receiver.stop()
    }

    /// systemd's notify socket queues ten datagrams (net.unix.max_dgram_qlen); a listener that
    /// stops reading must not freeze the watchdog's service, or SIGTERM would wait for it forever.
    @Test func aNotifySocketNobodyReadsCannotHoldUpTheStop() async throws {
        let directory = try Paths.temporaryDirectory("notify-full")
        let notify = try NotifySocket(directory: directory)
        // A ping each millisecond fills the socket's queue at once.
        let env = Paths.environment(in: directory).merging(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000"]) { $1 }
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        _ = try await notify.waitFor("READY=1", timeout: 30)
        let deadline = Date().addingTimeInterval(20)
        while !daemon.stderr.contains("systemd did not take the watchdog ping"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(daemon.stderr.contains("systemd did not take the watchdog ping"), "\(daemon.stderr.suffix(1_000))")
        let stopping = Date()
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 20) == 0)
        #expect(Date().timeIntervalSince(stopping) < 5)
        #expect(daemon.stderr.contains("tidings stopped"))
    }
}
