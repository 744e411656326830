import Testing
@testable import TidingsCore

@Suite("Dry run report and unified diff")
struct DryRunReportTests {
    func message(_ key: String, _ channel: Channel = .email, to recipient: String = "ann@example.com", words: String = "Hello\nYour order shipped\nBye")
        -> DryRunReport.Message
    {
        DryRunReport.Message(key: key, workflow: "order_shipped", channel: channel, recipient: recipient, words: words)
    }

    @Test func countsAddedRemovedAndChangedPerWorkflowAndChannel() {
        let report = DryRunReport(
            live: [message("a"), message("b"), message("c"), message("d", .email)],
            candidate: [message("a"), message("b", words: "Hello\nYour order is on the road\nBye"), message("d", .sms, to: "+44"),
                        message("e")])
        let email = report.rows.first { $0.channel == .email }
        let sms = report.rows.first { $0.channel == .sms }
        #expect(email == DryRunReport.Row(workflow: "order_shipped", channel: .email, live: 4, candidate: 3, added: 1, removed: 2, changed: 1))
        #expect(sms == DryRunReport.Row(workflow: "order_shipped", channel: .sms, live: 0, candidate: 1, added: 1, removed: 0, changed: 0))
        #expect((report.added, report.removed, report.changed) == (2, 2, 1))
        let changed = report.examples.first { $0.change == .changed }
        #expect(changed?.text == """
            --- sent
            +++ candidate
            @@ -1,3 +1,3 @@
             Hello
            -Your order shipped
            +Your order is on the road
             Bye
            """)
    }

    @Test func aDifferentRecipientIsAChange() {
        let report = DryRunReport(live: [message("a")], candidate: [message("a", to: "bob@example.com")])
        #expect(report.changed == 1)
        #expect(report.examples.first?.text.hasPrefix("recipient: ann@example.com -> bob@example.com") == true)
    }

    @Test func examplesAreLimitedPerKindOfChange() {
        let report = DryRunReport(live: [], candidate: (0..<10).map { message("k\($0)") }, examplesPerChange: 2)
        #expect(report.added == 10 && report.examples.count == 2)
    }

    @Test func diffKeepsThreeLinesOfContextAndSplitsFarApartChanges() {
        let old = (1...20).map { "line \($0)" }.joined(separator: "\n")
        var lines = (1...20).map { "line \($0)" }
        lines[1] = "line two"
        lines[17] = "line eighteen"
        let diff = UnifiedDiff.of(old, lines.joined(separator: "\n"), oldName: "a", newName: "b")
        let hunks = diff.split(separator: "\n").filter { $0.hasPrefix("@@") }
        #expect(hunks == ["@@ -1,5 +1,5 @@", "@@ -15,6 +15,6 @@"])
        #expect(UnifiedDiff.of("same", "same", oldName: "a", newName: "b").isEmpty)
        #expect(UnifiedDiff.of("", "new", oldName: "a", newName: "b").contains("+new"))
    }
}
