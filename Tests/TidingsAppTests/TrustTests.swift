import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Testing
import TidingsCore
import TidingsStore

/// The running daemon's side of trust: a clock change is in force before `clock set` returns,
/// and an event it cannot apply is quarantined where an operator sees it, then retried.
@Suite("Trust: the clock handshake and quarantine, through the daemon", .serialized)
struct TrustTests {
    func at(_ text: String) -> Date { Timestamp.parse(text)! }

    func event(_ id: String, _ type: String, _ subject: String, _ data: String) -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"urn:trust","type":"\#(type)","subject":"\#(subject)","data":\#(data)}"#
    }

    func order(_ id: String) -> String {
        event(id, "order.placed", id, #"{"customer_id":"c-1","total":5,"currency":"EUR","items":[{"sku":"A","name":"A","quantity":1,"unit_price":5}]}"#)
    }

    func waitIdle(_ env: [String: String], _ directory: URL) async throws {
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "30"], environment: env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")
    }

    /// `clock set` returns once the running daemon works at the new time: an event appended
    /// right after it is applied at that time, every time.
    @Test func anEventAppendedAfterClockSetIsAppliedAtTheNewTime() async throws {
        let directory = try Paths.temporaryDirectory("clockset")
        let env = Paths.environment(in: directory).merging(["CLOCK_SOURCE": "database", "DATABASE_SYNCHRONOUS": "normal",
                                                            "HTTP_LISTEN": "127.0.0.1:0"]) { $1 }
        var time = at("2026-11-23T07:00:00Z")
        let first = try await ChildProcess.tidings(["clock", "set", Timestamp.format(time)], environment: env, logs: directory)
        #expect(first.stdout.contains("no daemon is running"), "\(first.stdout)\(first.stderr)")
        _ = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory,
                                           stdin: Data(event("c-1", "customer.registered", "c-1", #"{"email":"c1@example.com"}"#).utf8))
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        try await waitIdle(env, directory)
        for n in 1...5 {
            time = time.addingTimeInterval(86_400)
            let set = try await ChildProcess.tidings(["clock", "set", Timestamp.format(time)], environment: env, logs: directory)
            #expect(set.status == 0, "\(set.stderr)")
            let appended = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(order("o-\(n)").utf8))
            #expect(appended.status == 0, "\(appended.stderr)")
            try await waitIdle(env, directory)
            let store = try Store(path: env["DATABASE_PATH"]!, durability: .normal)
            let message = try #require(try store.messages(limit: 100).first { $0.subjectID == "o-\(n)" && $0.workflow == "order_confirmation" })
            #expect(message.createdAt == time, "o-\(n) was applied at \(Timestamp.format(message.createdAt)), not at \(Timestamp.format(time))")
            // `append` records the event at the daemon's time too, not the machine's.
            let recorded = try await store.pool.read { db in
                try Double.fetchOne(db, sql: "SELECT recorded_at FROM events WHERE id = ?", arguments: ["o-\(n)"])
            }
            #expect(recorded == time.timeIntervalSince1970)
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
    }

    /// An event that cannot be applied is quarantined; the others go on. The operator sees it in
    /// `tidings events`, on `/readyz` past the threshold, and in the metrics, and a retry after
    /// the fix applies it.
    @Test func aPoisonEventIsQuarantinedShownAndRetried() async throws {
        let directory = try Paths.temporaryDirectory("quarantine")
        let env = Paths.environment(in: directory).merging([
            "DATABASE_SYNCHRONOUS": "normal", "HTTP_LISTEN": "127.0.0.1:0", "HTTP_READY_MAX_QUARANTINED": "0",
        ]) { $1 }
        let lines = [event("c-1", "customer.registered", "c-1", #"{"email":"c1@example.com"}"#), order("o-1"), order("o-2")]
        _ = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(lines.joined(separator: "\n").utf8))
        // What an older version could leave in the log: a body that is not an event at all.
        let queue = try DatabaseQueue(path: env["DATABASE_PATH"]!)
        let good = try await queue.read { db in try Data.fetchOne(db, sql: "SELECT body FROM events WHERE position = 2") }
        try await queue.write { db in try db.execute(sql: "UPDATE events SET body = CAST('null' AS BLOB) WHERE position = 2") }

        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        try await waitIdle(env, directory)
        let listed = try await ChildProcess.tidings(["events", "quarantined"], environment: env, logs: directory)
        #expect(listed.stdout.contains("not a readable CloudEvent"), "\(listed.stdout)\(listed.stderr)")
        let status = try await ChildProcess.tidings(["status"], environment: env, logs: directory)
        #expect(status.stdout.contains("held:        1 quarantined"), "\(status.stdout)")
        #expect(daemon.stderr.contains("event quarantined"))
        let listening = try #require(daemon.stderr.split(separator: "\n").first { $0.contains("http listening") })
        let address = try #require(listening.split(separator: " ").first { $0.hasPrefix("address=") }).dropFirst("address=".count)
        let (readyBody, ready) = try await URLSession.shared.data(from: try #require(URL(string: "http://\(address)/readyz")))
        #expect((ready as? HTTPURLResponse)?.statusCode == 503, "\(String(decoding: readyBody, as: UTF8.self))")
        let (metrics, _) = try await URLSession.shared.data(from: try #require(URL(string: "http://\(address)/metrics")))
        #expect(String(decoding: metrics, as: UTF8.self).contains(#"tidings_events_held{kind="quarantined"} 1"#))

        try await queue.write { db in try db.execute(sql: "UPDATE events SET body = ? WHERE position = 2", arguments: [good]) }
        let retried = try await ChildProcess.tidings(["events", "retry", "2"], environment: env, logs: directory)
        #expect(retried.status == 0, "\(retried.stdout)\(retried.stderr)")
        #expect(retried.stdout.contains("2: applied"))
        try await waitIdle(env, directory)
        let store = try Store(path: env["DATABASE_PATH"]!, durability: .normal)
        #expect(Set(try store.messages(limit: 100).compactMap(\.subjectID)) == ["o-1", "o-2"])
        let (_, readyAgain) = try await URLSession.shared.data(from: try #require(URL(string: "http://\(address)/readyz")))
        #expect((readyAgain as? HTTPURLResponse)?.statusCode == 200)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
    }

    /// A `tidings append` killed half-way leaves nothing in the log and holds nothing back: the
    /// daemon abandons its staged events, and what was appended meanwhile goes through.
    @Test func anAppendKilledHalfWayLeavesNothingAndHoldsNothingBack() async throws {
        let directory = try Paths.temporaryDirectory("append-kill")
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal", "HTTP_LISTEN": "127.0.0.1:0"]) { $1 }
        let big = directory.appendingPathComponent("big.ndjson")
        let lines = (0..<300_000).map { event("big-\($0)", "customer.registered", "c-big-\($0)", #"{"email":"big\#($0)@example.com"}"#) }
        try lines.joined(separator: "\n").write(to: big, atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        try await waitIdle(env, directory)
        let append = try ChildProcess(Paths.tidings, ["append", big.path], environment: env, logs: directory, name: "append-big")
        let queue = try DatabaseQueue(path: env["DATABASE_PATH"]!)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try await queue.read({ db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE append_id IS NOT NULL") ?? 0 }) == 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let small = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory,
                                                   stdin: Data(event("c-1", "customer.registered", "c-1", #"{"email":"c1@example.com"}"#).utf8))
        #expect(small.status == 0, "\(small.stderr)")
        #expect(append.process.isRunning, "the big append finished before it could be killed")
        append.signal(SIGKILL)
        _ = try await append.wait(timeout: 10)
        try await waitIdle(env, directory)
        let store = try Store(path: env["DATABASE_PATH"]!, durability: .normal)
        #expect(try store.customer(id: "c-1") != nil, "the event appended meanwhile was applied")
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE id LIKE 'big-%'") } == 0)
        #expect(try store.appendsInProgress().isEmpty)
        #expect(daemon.stderr.contains("abandoned the staged events"))
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
    }
}
