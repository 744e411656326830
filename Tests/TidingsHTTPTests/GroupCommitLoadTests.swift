import Foundation
import Logging
import Testing
import TidingsCore
@testable import TidingsHTTP

/// A group commit applies its own events unless ingest's writer is saturated, and a writer that
/// waited for requests is not.
@Suite("Group commit under load")
struct GroupCommitLoadTests {
    struct NoLog: EventLog {
        func append(batches: [[EncodedEvent]], now: Date) async throws -> [AppendResult] { [] }
    }

    let inline = InlineProjection(
        engine: WorkflowEngine(workflows: WorkflowSet(workflows: []), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: "")),
        now: { Date() }, handoff: nil)

    func commit(inline: InlineProjection?) -> GroupCommit {
        GroupCommit(log: NoLog(), logger: Logger(label: "test"), clock: { Date() }, inline: inline,
                    intakeLoad: IntakeLoad(saturatedAbove: 4, easedBelow: 2))
    }

    @Test func aSaturatedWriterLeavesGroupsToThePipelineUntilItRests() {
        let commit = commit(inline: inline)
        var load = commit.intakeLoad
        let first = commit.projection(for: 1, waited: .zero, load: &load)
        #expect(first != nil)
        var groups = 0
        while commit.projection(for: 10, waited: .zero, load: &load) != nil, groups < 20 { groups += 1 }
        #expect(!load.appliesInline && groups < 20)
        let busy = commit.projection(for: 3, waited: .milliseconds(1), load: &load)
        #expect(busy == nil, "busy still: still left to the pipeline")
        let rested = commit.projection(for: 3, waited: IntakeLoad.restAfter, load: &load)
        #expect(rested != nil, "after a rest, inline again")
    }

    @Test func withoutAnInlineProjectionNothingIsApplied() {
        let commit = commit(inline: nil)
        var load = commit.intakeLoad
        let projection = commit.projection(for: 1, waited: .zero, load: &load)
        #expect(projection == nil)
    }
}
