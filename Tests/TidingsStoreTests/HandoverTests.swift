import Testing
@testable import TidingsStore

/// `tidings append` hands each chunk to the writer through a `Handover`: the writer takes it
/// once, and nobody else holds it then, so it is freed where it was taken.
@Suite("Handing a chunk to the writer")
struct HandoverTests {
    final class Tracked: Sendable {}

    @Test func theValueIsTakenOnceAndHeldOnlyByWhoTookIt() {
        let handover = Handover([Tracked(), Tracked()])
        weak var first: Tracked?
        do {
            let taken = handover.take()
            #expect(taken?.count == 2)
            first = taken?.first
            #expect(first != nil)
            #expect(handover.take() == nil)
        }
        // Gone with the taker's copy: the handover kept no reference.
        #expect(first == nil)
    }
}
