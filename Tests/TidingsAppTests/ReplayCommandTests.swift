import Foundation
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// `tidings replay --dry-run`: the log through a candidate's workflows and templates, compared
/// with what the running configuration decided, writing nothing.
@Suite("tidings replay --dry-run")
struct ReplayCommandTests {
    /// The example day, projected, and a candidate directory holding a copy of the shipped
    /// templates and workflows.
    static func setUp(_ name: String) async throws -> (env: [String: String], directory: URL, candidate: URL, store: Store) {
        let (_, store) = try await ExampleDayOutboxTests.projectedDay()
        let directory = try Paths.temporaryDirectory(name)
        let candidate = directory.appendingPathComponent("candidate")
        try FileManager.default.createDirectory(at: candidate, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/templates"), to: candidate.appendingPathComponent("templates"))
        try FileManager.default.copyItem(at: Paths.root.appendingPathComponent("config/workflows.yaml"),
                                         to: candidate.appendingPathComponent("workflows.yaml"))
        let env = Paths.environment(in: directory).merging(["DATABASE_PATH": store.path]) { $1 }
        return (env, directory, candidate, store)
    }

    @Test func theShippedConfigurationReplaysToExactlyWhatItDecided() async throws {
        let (env, directory, candidate, store) = try await Self.setUp("replay-same")
        let before = try RebuildTests.tables(store)
        let result = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path], environment: env, logs: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("0 added, 0 removed, 0 changed"), "\(result.stdout)")
        #expect(result.stdout.contains("order_confirmation"), "\(result.stdout)")
        RebuildTests.expectSame(before, try RebuildTests.tables(store), "a dry run")
    }

    @Test func aChangedTemplateAndARemovedWorkflowShowAsChangedAndRemoved() async throws {
        let (env, directory, candidate, _) = try await Self.setUp("replay-changed")
        let sms = candidate.appendingPathComponent("templates/order_shipped/en/sms.text.mustache")
        let text = try String(contentsOf: sms, encoding: .utf8)
        try text.replacingOccurrences(of: "is on its way", with: "is on the road").write(to: sms, atomically: true, encoding: .utf8)
        let workflows = candidate.appendingPathComponent("workflows.yaml")
        let yaml = try String(contentsOf: workflows, encoding: .utf8)
        // Refunds are no longer announced: every refund_issued message is removed.
        let refunds = "  - id: refund_issued\n    \"on\": order.refunded\n    when: {}\n    to: customer\n    category: transactional\n"
            + "    channels: [email]\n    template: refund_issued\n"
        #expect(yaml.contains(refunds))
        try yaml.replacingOccurrences(of: refunds, with: "").write(to: workflows, atomically: true, encoding: .utf8)

        let result = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path, "--format", "json"],
                                                    environment: env, logs: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONValue.parse(Array(result.stdout.utf8))
        let rows = try #require(report["rows"]?.arrayValue)
        let shipped = rows.first { $0["workflow"]?.stringValue == "order_shipped" && $0["channel"]?.stringValue == "sms" }
        #expect((shipped?["changed"]?.numberValue ?? 0) > 0, "\(result.stdout)")
        let refunded = rows.first { $0["workflow"]?.stringValue == "refund_issued" }
        #expect(refunded?["removed"]?.numberValue == refunded?["sent"]?.numberValue && (refunded?["removed"]?.numberValue ?? 0) > 0)
        #expect(report["added"]?.numberValue == 0)
        let diff = report["examples"]?.arrayValue?.first { $0["change"]?.stringValue == "changed" }?["text"]?.stringValue ?? ""
        #expect(diff.contains("-Northwind Goods: Your order") && diff.contains("is on the road"), "\(diff)")
    }

    @Test func mistakesAreNamed() async throws {
        let (env, directory, candidate, _) = try await Self.setUp("replay-mistakes")
        let noFlag = try await ChildProcess.tidings(["replay", "--config", candidate.path], environment: env, logs: directory)
        #expect(noFlag.status == 64 && noFlag.stderr.contains("only with --dry-run"), "\(noFlag.stderr)")
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let nothing = try await ChildProcess.tidings(["replay", "--dry-run", "--config", empty.path], environment: env, logs: directory)
        #expect(nothing.status == 2 && nothing.stderr.contains("neither workflows.yaml nor a templates directory"), "\(nothing.stderr)")
        let later = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path, "--since", "2030-01-01T00:00:00Z"],
                                                   environment: env, logs: directory)
        #expect(later.status == 1 && later.stderr.contains("no events applied by the pipeline were recorded since 2030-01-01"), "\(later.stderr)")
        let badTime = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path, "--until", "tomorrow"],
                                                     environment: env, logs: directory)
        #expect(badTime.status == 64 && badTime.stderr.contains("not an RFC 3339 time"), "\(badTime.stderr)")
        try "workflows: [".write(to: candidate.appendingPathComponent("workflows.yaml"), atomically: true, encoding: .utf8)
        let broken = try await ChildProcess.tidings(["replay", "--dry-run", "--config", candidate.path], environment: env, logs: directory)
        #expect(broken.status == 2 && broken.stderr.contains("does not load"), "\(broken.stderr)")
    }
}
