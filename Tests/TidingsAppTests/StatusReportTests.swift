import Foundation
import Testing
import TidingsApp
import TidingsCore
@testable import TidingsStore

/// What the commands print comes partly from events and receivers: a terminal must never act
/// on it (an ESC sequence recolouring the screen, a CR overwriting a line).
@Suite("Command output")
struct StatusReportTests {
    @Test func controlCharactersFromEventsAreShownEscaped() {
        let message = MessageSummary(
            id: 7, key: "k", workflow: "order_shipped", customerID: "c-1", subjectID: "o-1", channel: "messenger",
            recipient: "psid\u{1B}[2J", state: .dead, attempts: 1, createdAt: Date(timeIntervalSince1970: 0), sentAt: nil,
            lastError: "HTTP 400: bad\r\nrecipient \u{9B}31m")
        for text in [StatusReport.render([message]), StatusReport.render(message, attempts: [])] {
            #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x0D || $0.value == 0x9B })
            #expect(text.contains("\\u{9b}31m"))
        }
        #expect(StatusReport.printable("Zoë ✓\ttab") == "Zoë ✓\\u{9}tab")
    }
}
