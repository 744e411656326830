import Foundation
import TidingsCore
import TidingsStore

/// Text for `tidings status` and `tidings deliveries list`.
public enum StatusReport {
    public static func render(_ status: StoreStatus) -> String {
        var lines = [
            "log head:    \(status.head)",
            "checkpoint:  \(status.checkpoint)",
            "lag:         \(status.lag) event\(status.lag == 1 ? "" : "s")",
            "timers:      \(status.timers) running\(status.timersDue > 0 ? ", \(status.timersDue) due" : "")",
        ]
        if status.fanoutPending > 0 { lines.append("disruption:  \(status.fanoutPending) orders still to tell") }
        if status.appending > 0 { lines.append("appending:   \(status.appending) `tidings append` still writing; its events show when it is done") }
        if !status.held.isEmpty {
            let held = HeldEvent.Kind.allCases.compactMap { kind in status.held[kind].map { "\($0) \(kind.rawValue)" } }
            lines.append("held:        \(held.joined(separator: ", ")) (`tidings events`)")
        }
        lines.append("outbox:")
        for state in MessageState.allCases {
            let detail = status.byChannel(state)
            lines.append("  \(state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(status.count(state)).leftPadded(6))\(detail.isEmpty ? "" : "   (\(detail))")")
        }
        return lines.joined(separator: "\n")
    }

    public static func render(_ messages: [MessageSummary]) -> String {
        guard !messages.isEmpty else { return "no messages" }
        var lines = ["\("ID".leftPadded(5))  \("STATE".padded(10)) \("CHANNEL".padded(9)) \("WORKFLOW".padded(26)) \("CUSTOMER".padded(8)) \("ABOUT".padded(8)) \("TRIES".leftPadded(5))  TO / REASON"]
        for m in messages {
            let note = m.lastError.map { m.state == .sent ? (m.recipient ?? "") : $0 } ?? (m.recipient ?? "")
            lines.append("\(String(m.id).leftPadded(5))  \(m.state.rawValue.padded(10)) \((m.channel ?? "-").padded(9)) \(m.workflow.padded(26)) \(m.customerID.padded(8)) \((m.subjectID ?? "-").padded(8)) \(String(m.attempts).leftPadded(5))  \(note)")
        }
        // Ids, addresses and reasons come from events and receivers: never raw to a terminal.
        return lines.map(printable).joined(separator: "\n")
    }
}

extension StatusReport {
    /// One message and every attempt it made, on every channel: `tidings deliveries show`.
    public static func render(_ message: MessageSummary, attempts: [AttemptSummary]) -> String {
        var lines = [
            "message \(message.id)  \(message.key)",
            "  workflow:  \(message.workflow)",
            "  customer:  \(message.customerID)\(message.subjectID.map { "  about \($0)" } ?? "")",
            "  state:     \(message.state.rawValue) on \(message.channel ?? "-") to \(message.recipient ?? "-")",
            "  created:   \(Timestamp.format(message.createdAt))",
        ]
        if let sentAt = message.sentAt { lines.append("  sent:      \(Timestamp.format(sentAt))") }
        if let error = message.lastError { lines.append("  reason:    \(error)") }
        lines.append(attempts.isEmpty ? "  no attempts yet" : "  attempts:")
        for attempt in attempts {
            lines.append("    \(String(attempt.attempt).leftPadded(3))  \(Timestamp.format(attempt.at))  \(attempt.channel.padded(9)) \(attempt.outcome.padded(11)) \(attempt.detail ?? "")")
        }
        return lines.map(printable).joined(separator: "\n")
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
