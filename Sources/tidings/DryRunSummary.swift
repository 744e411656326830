import Foundation
import TidingsApp
import TidingsCore

/// A dry run's report as a person reads it, or as JSON for scripts.
struct DryRunSummary {
    var report: DryRunReport
    var events: Int
    var positions: ClosedRange<Int64>
    var range: String
    var candidate: String

    var text: String {
        var lines = [
            "replayed \(events) events with the candidate in \(candidate); compared the messages of the events at positions "
                + "\(positions.lowerBound)-\(positions.upperBound) (recorded \(range))",
            "",
        ]
        let header = ["workflow", "channel", "sent", "candidate", "added", "removed", "changed"]
        let cells = report.rows.map { row in
            [row.workflow, row.channel.rawValue, "\(row.live)", "\(row.candidate)", "\(row.added)", "\(row.removed)", "\(row.changed)"]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for row in [header] + cells {
            lines.append(row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < 2 ? cell + pad : pad + cell
            }.joined(separator: "  "))
        }
        lines.append("")
        lines.append("\(report.added) added, \(report.removed) removed, \(report.changed) changed")
        for example in report.examples {
            let message = example.message
            lines.append("")
            lines.append("\(example.change.rawValue): \(message.workflow) by \(message.channel.rawValue) to \(message.recipient ?? "-") "
                + "(message \(message.key))")
            lines += example.text.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }
        }
        return lines.map(StatusReport.printable).joined(separator: "\n")
    }

    var json: String {
        let object: JSONValue = .object([
            "events_replayed": .number(Double(events)),
            "positions": .array([.number(Double(positions.lowerBound)), .number(Double(positions.upperBound))]),
            "added": .number(Double(report.added)), "removed": .number(Double(report.removed)), "changed": .number(Double(report.changed)),
            "rows": .array(report.rows.map { row in
                .object(["workflow": .string(row.workflow), "channel": .string(row.channel.rawValue), "sent": .number(Double(row.live)),
                         "candidate": .number(Double(row.candidate)), "added": .number(Double(row.added)),
                         "removed": .number(Double(row.removed)), "changed": .number(Double(row.changed))])
            }),
            "examples": .array(report.examples.map { example in
                .object(["change": .string(example.change.rawValue), "key": .string(example.message.key),
                         "workflow": .string(example.message.workflow), "channel": .string(example.message.channel.rawValue),
                         "recipient": example.message.recipient.map(JSONValue.string) ?? .null, "text": .string(example.text)])
            }),
        ])
        return (try? String(decoding: object.encodedBytes(), as: UTF8.self)) ?? "{}"
    }
}
