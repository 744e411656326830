import Testing
@testable import TidingsCore

@Suite("Claim priority")
struct ClaimPriorityTests {
    /// Acknowledgements and whatever a missed deadline caused (the apology, whatever its
    /// category) come first; follow-ups last; everything else in between.
    @Test func acknowledgementsAndApologiesFirstFollowUpsLast() {
        for category in Workflow.Category.allCases {
            for type in Deadlines.types {
                #expect(ClaimPriority(category: category, eventType: type) == .first, "\(category) on \(type)")
            }
            let ordinary = ClaimPriority(category: category, eventType: "order.shipped")
            switch category {
            case .acknowledgement: #expect(ordinary == .first)
            case .followUp: #expect(ordinary == .last)
            case .transactional, .orderStatus, .alert: #expect(ordinary == .normal)
            }
        }
        #expect(ClaimPriority.allCases.sorted() == [.first, .normal, .last])
    }
}
