import Testing
@testable import TidingsCore

/// Group commits apply their own events while groups stay small, and stop while they stay large.
@Suite("Intake load")
struct IntakeLoadTests {
    @Test func smallGroupsAndABurstKeepApplyingInline() {
        var load = IntakeLoad()
        for size in [1, 3, 2, 5, 1, 4] {
            let changed = load.record(requests: size)
            #expect(!changed)
        }
        #expect(load.appliesInline)
        // One burst of 64 requests moves the average an eighth of the way: not enough.
        load.record(requests: 64)
        #expect(load.appliesInline)
        for _ in 0..<10 { load.record(requests: 3) }
        #expect(load.appliesInline && load.averageGroup < 12)
    }

    @Test func groupsThatStayLargeStopItUntilTheyAreSmallAgain() {
        var load = IntakeLoad()
        var changes = 0
        var groups = 0
        while load.appliesInline, groups < 100 {
            if load.record(requests: 64) { changes += 1 }
            groups += 1
        }
        #expect(!load.appliesInline && changes == 1)
        #expect(groups <= 5, "a writer saturated for a handful of commits stops applying inline")
        // Between the thresholds it stays as it is.
        for _ in 0..<50 { load.record(requests: 18) }
        #expect(!load.appliesInline)
        while !load.appliesInline, groups < 200 {
            load.record(requests: 2)
            groups += 1
        }
        #expect(load.appliesInline && load.averageGroup < 12)
        for _ in 0..<50 { load.record(requests: 18) }
        #expect(load.appliesInline, "and from below it stays inline between them")
    }

    /// After a busy spell, a quiet writer does not keep the next requests on the slower path.
    @Test func aWriterThatWaitedForRequestsAppliesInlineAtOnce() {
        var load = IntakeLoad()
        for _ in 0..<20 { load.record(requests: 64) }
        #expect(!load.appliesInline)
        let busy = load.record(requests: 30, waited: .milliseconds(5))
        #expect(!busy && !load.appliesInline)
        let rested = load.record(requests: 1, waited: IntakeLoad.restAfter)
        #expect(rested && load.appliesInline && load.averageGroup < 2)
    }

    @Test func thresholdsCannotCross() {
        let load = IntakeLoad(saturatedAbove: 10, easedBelow: 20)
        #expect(load.easedBelow == 10)
    }
}
