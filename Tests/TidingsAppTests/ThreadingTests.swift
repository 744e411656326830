import Foundation
import Testing
import TidingsCore
import TidingsStore

/// Emails about one order or ticket read as one conversation: each later one answers the first
/// (`In-Reply-To`, `References`), and replies go to an address that names the order or ticket.
/// The example day goes through the daemon to the spool, and Python's `email` package reads
/// every message as a mail client would.
@Suite("Email threading", .serialized)
struct ThreadingTests {
    static let reader = """
        import email, email.policy, json, pathlib, sys
        out = []
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            out.append({"key": path.stem, "message_id": str(message["Message-ID"]), "in_reply_to": str(message["In-Reply-To"] or ""),
                        "references": str(message["References"] or ""), "reply_to": str(message["Reply-To"] or ""),
                        "defects": len(message.defects) + sum(len(part.defects) for part in message.walk())})
        print(json.dumps(out))
        """

    @Test func emailsAboutOneOrderOrTicketThreadOnTheFirst() async throws {
        let directory = try Paths.temporaryDirectory("threading")
        let env = Paths.environment(in: directory).merging(["CLOCK_SOURCE": "database"]) { $1 }
        let clock = try await ChildProcess.tidings(["clock", "set", "2026-11-23T12:00:00Z"], environment: env, logs: directory)
        #expect(clock.status == 0, "\(clock.stderr)")
        let notify = try NotifySocket(directory: directory)
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env.merging(["NOTIFY_SOCKET": notify.path]) { $1 },
                                      logs: directory, name: "serve")
        _ = try await notify.waitFor("READY=1", timeout: 30)
        let day = Paths.root.appendingPathComponent("config/examples/day.ndjson").path
        let appended = try await ChildProcess.tidings(["append", day], environment: env, logs: directory)
        #expect(appended.status == 0, "\(appended.stderr)")
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "60"], environment: env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)

        let spool = directory.appendingPathComponent("spool/email").path
        let read = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.reader, spool], logs: directory, name: "read-eml")
        #expect(try await read.wait() == 0, "\(read.stderr)")
        let emails = try #require(try JSONValue.parse(Array(read.stdout.utf8)).arrayValue)
        let store = try Store(path: try #require(env["DATABASE_PATH"]))
        let rows = try store.messages(limit: 1_000)
        let byKey = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0) })

        // Per order or ticket, the emails in the order they were decided: the first starts the
        // conversation, every later one answers it.
        var threads: [String: [(id: Int64, email: JSONValue)]] = [:]
        for email in emails {
            #expect(email["defects"]?.numberValue == 0, "\(email)")
            let row = try #require(byKey[email["key"]?.stringValue ?? ""])
            guard let subject = row.subjectID else { continue }
            threads["\(row.customerID) \(subject)", default: []].append((row.id, email))
            #expect(email["reply_to"]?.stringValue == "Northwind Help <help+\(subject)@northwind.example>", "\(email)")
        }
        let conversations = threads.values.filter { $0.count > 1 }
        #expect(conversations.count >= 5, "the example day has several orders with more than one email")
        for thread in conversations {
            let sorted = thread.sorted { $0.id < $1.id }
            let root = sorted[0].email["message_id"]?.stringValue ?? ""
            #expect(sorted[0].email["in_reply_to"]?.stringValue == "", "the first one answers nothing: \(sorted[0].email)")
            for later in sorted.dropFirst() {
                #expect(later.email["in_reply_to"]?.stringValue == root && later.email["references"]?.stringValue == root, "\(later.email)")
            }
        }
    }
}
