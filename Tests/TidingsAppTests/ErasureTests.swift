import Foundation
import GRDB
import Testing
import TidingsCore
import TidingsStore

/// `tidings forget`: after a customer's events were appended and their messages sent (to the
/// spool), forgetting them, rebuilding and replaying leaves none of their name, email or phone
/// in the database file, the spool or any log, while another customer's data stays.
@Suite("Erasure through the daemon", .serialized)
struct ErasureTests {
    static let name = "Zelda Quux-Erasmus", email = "zelda.erasmus@forget.example", phone = "+4915112398765", postcode = "ZX9 9QQ"
    static let otherEmail = "keep.me@example.com"

    static let events = """
        {"specversion":"1.0","id":"er-1","source":"urn:test","type":"customer.registered","subject":"c-forget","data":{"name":"\(name)","given_name":"Zelda","email":"\(email)","phone":"\(phone)","preferences":{"channels":["email","sms"],"consent":{"sms":true}}}}
        {"specversion":"1.0","id":"er-2","source":"urn:test","type":"order.placed","subject":"o-forget","data":{"customer_id":"c-forget","total":20,"currency":"EUR","items":[{"sku":"MUG","name":"Mug","quantity":1,"unit_price":20}],"deliver_by":"2099-01-01T00:00:00Z","shipping":{"region":"London","postcode":"\(postcode)","address":{"street":"1 Erasmus Row"}}}}
        {"specversion":"1.0","id":"er-3","source":"urn:test","type":"ticket.opened","subject":"t-forget","data":{"customer_id":"c-forget","kind":"complaint","summary":"This is \(name), call me on \(phone)","order_id":"o-forget"}}
        {"specversion":"1.0","id":"er-4","source":"urn:test","type":"customer.registered","subject":"c-keep","data":{"name":"Keep Me","email":"\(otherEmail)","preferences":{"channels":["email"]}}}
        {"specversion":"1.0","id":"er-5","source":"urn:test","type":"order.placed","subject":"o-keep","data":{"customer_id":"c-keep","total":10,"currency":"EUR","items":[{"sku":"TEA","name":"Tea","quantity":1,"unit_price":10}]}}
        """

    /// Every file under `directory` that holds `text`, as bytes (a log line, a spool file, a page).
    static func files(in directory: URL, containing text: String) -> [String] {
        let needle = Data(text.utf8)
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var found: [String] = []
        while let url = walker?.nextObject() as? URL {
            guard let data = FileManager.default.contents(atPath: url.path), data.range(of: needle) != nil else { continue }
            found.append(url.lastPathComponent)
        }
        return found
    }

    @Test func aForgottenCustomerLeavesNoTraceInTheDatabaseTheSpoolOrTheLogs() async throws {
        let directory = try Paths.temporaryDirectory("erasure")
        let env = Paths.environment(in: directory)
        let notify = try NotifySocket(directory: directory)
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env.merging(["NOTIFY_SOCKET": notify.path]) { $1 },
                                      logs: directory, name: "serve")
        _ = try await notify.waitFor("READY=1", timeout: 30)
        let appended = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(Self.events.utf8))
        #expect(appended.stdout.contains("appended 5 events"), "\(appended.stderr)")
        let idle = try await ChildProcess.tidings(["status", "--wait-idle", "60"], environment: env, logs: directory)
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")
        // The search finds what is there: the messages went out with the address in them.
        #expect(Self.files(in: directory.appendingPathComponent("spool"), containing: Self.email).count >= 2)
        #expect(!Self.files(in: directory.appendingPathComponent("spool"), containing: Self.phone).isEmpty)

        let forgot = try await ChildProcess.tidings(["forget", "c-forget"], environment: env, logs: directory)
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(forgot.stdout.contains("forgot customer c-forget") && forgot.stdout.contains("1 order, 1 ticket and"), "\(forgot.stdout)")
        let again = try await ChildProcess.tidings(["forget", "c-forget"], environment: env, logs: directory)
        #expect(again.status == 1 && again.stderr.contains("was forgotten already"), "\(again.stderr)")
        let nobody = try await ChildProcess.tidings(["forget", "c-nobody"], environment: env, logs: directory)
        #expect(nobody.status == 1 && nobody.stderr.contains("there is no customer c-nobody"), "\(nobody.stderr)")
        // Rewriting the file needs the daemon stopped: refused before anything is forgotten.
        let wipe = try await ChildProcess.tidings(["forget", "--wipe", "c-keep"], environment: env, logs: directory)
        #expect(wipe.status == 1 && wipe.stderr.contains("stop tidings serve first"), "\(wipe.stderr)")
        #expect(!forgot.stdout.contains("made before deleted rows were overwritten"), "a new database is clean from the start")

        // New events about the customer, their order or their ticket are refused, whole.
        for event in [
            #"{"specversion":"1.0","id":"er-6","source":"urn:test","type":"customer.updated","subject":"c-forget","data":{"email":"new@forget.example"}}"#,
            #"{"specversion":"1.0","id":"er-7","source":"urn:test","type":"order.shipped","subject":"o-forget","data":{"carrier":"DPD"}}"#,
            #"{"specversion":"1.0","id":"er-8","source":"urn:test","type":"ticket.replied","subject":"t-forget","data":{"note":"hi"}}"#,
        ] {
            let refused = try await ChildProcess.tidings(["append", "-"], environment: env, logs: directory, stdin: Data(event.utf8))
            #expect(refused.status != 0 && refused.stderr.contains("who was forgotten"), "\(refused.stdout)\(refused.stderr)")
        }

        let rebuilt = try await ChildProcess.tidings(["rebuild"], environment: env, logs: directory)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let candidate = directory.appendingPathComponent("candidate")
        try FileManager.default.createDirectory(at: candidate, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/templates"), to: candidate.appendingPathComponent("templates"))
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/workflows.yaml"), to: candidate.appendingPathComponent("workflows.yaml"))
        let replayed = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path], environment: env, logs: directory)
        #expect(replayed.status == 0 && replayed.stdout.contains("0 added, 0 removed, 0 changed"), "\(replayed.stdout)\(replayed.stderr)")
        let settled = try await ChildProcess.tidings(["status", "--wait-idle", "60"], environment: env, logs: directory)
        #expect(settled.status == 0, "\(settled.stdout)\(settled.stderr)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)

        let store = try Store(path: try #require(env["DATABASE_PATH"]))
        let messages = try store.messages(limit: 1_000)
        let theirs = messages.filter { $0.customerID == "c-forget" }
        #expect(!theirs.isEmpty && theirs.allSatisfy { $0.recipient == nil || $0.recipient == PersonalData.erasedRecipient })
        #expect(theirs.contains { $0.state == .sent }, "the history keeps its states")
        let models = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM customers UNION ALL SELECT id FROM orders UNION ALL SELECT id FROM tickets ORDER BY 1")
        }
        #expect(models == ["c-keep", "o-keep"])
        _ = try store.truncateLog()

        // Nothing of theirs anywhere: the database (and its write-ahead log), the spool, and the
        // output of the daemon and of every command. The other customer's data is still found.
        for secret in [Self.name, "Zelda", Self.email, Self.phone, String(Self.phone.dropFirst()), Self.postcode, "Erasmus Row"] {
            #expect(Self.files(in: directory, containing: secret).isEmpty, "\(secret) is still in \(Self.files(in: directory, containing: secret))")
        }
        #expect(Self.files(in: directory, containing: Self.otherEmail).contains("tidings.sqlite"))

        // Forgotten while the daemon is down (its pipeline has not met the event), then rebuilt:
        // the replay's models of the customer do not come back.
        let offline = try await ChildProcess.tidings(["forget", "c-keep"], environment: env, logs: directory)
        #expect(offline.status == 0, "\(offline.stderr)")
        let rebuiltAgain = try await ChildProcess.tidings(["rebuild"], environment: env, logs: directory)
        #expect(rebuiltAgain.status == 0 && rebuiltAgain.stdout.contains("0 customers, 0 orders, 0 tickets"), "\(rebuiltAgain.stdout)\(rebuiltAgain.stderr)")
        #expect(Self.files(in: directory, containing: Self.otherEmail).isEmpty)
    }
}
