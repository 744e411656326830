import Foundation
import Synchronization
import Testing
import TidingsCore

/// The room the dispatcher offers the pipeline's claims: taken whole by one batch, never
/// offered twice while a batch holds it, and offered again when a batch used less or rolled back.
@Suite("Claim handoff")
struct ClaimHandoffTests {
    func message(_ id: Int64, _ channel: Channel = .email) -> OutboxMessage {
        OutboxMessage(id: id, key: "k\(id)", workflow: "ack", category: "acknowledgement", customerID: "c", subjectID: nil, template: "ack",
                      locale: "en", storedContext: Data("null".utf8), totalAttempts: 1, eventAt: nil,
                      progress: DeliveryProgress(state: .sending, route: Route(channel: channel, recipient: "a@example.com"), fallbacks: [],
                                                 attempts: 1, dueAt: Date(timeIntervalSince1970: 0)),
                      priority: .first)
    }

    @Test func aBatchTakesTheWholeRoomAndGivesBackWhatItDidNotUse() {
        let rings = Mutex(0)
        let handoff = ClaimHandoff(owner: "d", lease: 60, delivered: { rings.withLock { $0 += 1 } })
        #expect(handoff.reserve().isEmpty)
        handoff.offer([.email: 4, .sms: 0])
        #expect(handoff.offered == [.email: 4])

        let room = handoff.reserve()
        #expect(room == [.email: 4])
        #expect(handoff.reserve().isEmpty)
        #expect(handoff.hasOutstanding)
        // An offer made while the batch holds the room leaves that room out.
        handoff.offer([.email: 6])
        #expect(handoff.offered == [.email: 2])

        handoff.deliver([message(1)], reserved: room)
        #expect(!handoff.hasOutstanding)
        #expect(handoff.offered == [.email: 5])
        #expect(rings.withLock { $0 } == 1)
        let deliveries = handoff.take()
        #expect(deliveries.map { $0.messages.map(\.id) } == [[1]])
        #expect(deliveries.first?.filled(.email) == false)
        #expect(handoff.take().isEmpty)
    }

    @Test func claimsHandedOverButNotTakenAreNotOfferedAgain() {
        let handoff = ClaimHandoff(owner: "d", lease: 60, delivered: {})
        handoff.offer([.email: 2])
        let room = handoff.reserve()
        handoff.deliver([message(1), message(2)], reserved: room)
        #expect(handoff.take().first?.filled(.email) == true)

        handoff.offer([.email: 2])
        let again = handoff.reserve()
        handoff.deliver([message(3), message(4)], reserved: again)
        // The dispatcher has not taken 3 and 4 yet: an offer counting only what it holds is cut.
        handoff.offer([.email: 3])
        #expect(handoff.offered == [.email: 1])
    }

    @Test func aRolledBackBatchGivesItsRoomBack() {
        let handoff = ClaimHandoff(owner: "d", lease: 60, delivered: {})
        handoff.offer([.email: 3, .sms: 1])
        let room = handoff.reserve()
        handoff.giveBack(room)
        #expect(!handoff.hasOutstanding)
        #expect(handoff.offered == [.email: 3, .sms: 1])
        #expect(handoff.take().isEmpty)
    }

    @Test func aClosedHandoffOffersNothingAndSaysWhetherABatchStillHoldsRoom() {
        let handoff = ClaimHandoff(owner: "d", lease: 60, delivered: {})
        handoff.offer([.email: 3])
        let room = handoff.reserve()
        #expect(handoff.close())
        handoff.offer([.email: 3])
        #expect(handoff.reserve().isEmpty)
        // The batch in progress still hands its claims over, for the dispatcher to give back.
        handoff.deliver([message(1)], reserved: room)
        #expect(!handoff.hasOutstanding)
        #expect(handoff.offered.isEmpty)
        #expect(handoff.take().flatMap(\.messages).map(\.id) == [1])
        #expect(!handoff.close())
    }
}
