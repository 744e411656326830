import Foundation

/// One row of the table: a scenario's figure, the reference tool's figure from the same run
/// where the target is a ratio, and whether the target was met.
struct Outcome: Encodable {
    var scenario: String
    var figure: Double
    var unit: String
    var reference: Double?
    var referenceTool: String?
    /// The figure over the reference, where the target is a ratio.
    var ratio: Double?
    var target: String
    var pass: Bool
    /// Further readings (resident memory, percentiles, counts) that back the figure.
    var details: [String: Double] = [:]
    var error: String?

    enum CodingKeys: String, CodingKey {
        case scenario, figure, unit, reference, referenceTool = "reference_tool", ratio, target, pass, details, error
    }

    init(scenario: String, figure: Double, unit: String, reference: Double? = nil, referenceTool: String? = nil, target: String,
         pass: Bool, details: [String: Double] = [:]) {
        self.scenario = scenario
        self.figure = figure
        self.unit = unit
        self.reference = reference
        self.referenceTool = referenceTool
        ratio = reference.map { $0 > 0 ? figure / $0 : 0 }
        self.target = target
        self.pass = pass
        self.details = details
    }

    static func failed(_ scenario: String, target: String, _ error: Error) -> Outcome {
        var outcome = Outcome(scenario: scenario, figure: 0, unit: "", target: target, pass: false)
        outcome.error = "\(error)"
        return outcome
    }
}

/// The results of a run: the table on stdout and the same rows as JSON.
struct Report: Encodable {
    var started: String
    var machine: [String: String]
    var scale: Double
    var outcomes: [Outcome] = []

    var passed: Bool { outcomes.allSatisfy(\.pass) }

    func table() -> String {
        let header = ["scenario", "figure", "reference (same run)", "ratio", "target", "result"]
        var rows = [header]
        for outcome in outcomes {
            let reference = outcome.reference.map { "\(Self.number($0)) \(outcome.unit) (\(outcome.referenceTool ?? ""))" } ?? "-"
            rows.append([
                outcome.scenario, outcome.error == nil ? "\(Self.number(outcome.figure)) \(outcome.unit)" : "error",
                reference, outcome.ratio.map { String(format: "%.2f", $0) } ?? "-", outcome.target, outcome.pass ? "pass" : "FAIL",
            ])
        }
        var lines = Self.columns(rows)
        for outcome in outcomes {
            if let error = outcome.error { lines.append("\(outcome.scenario): \(error)") }
            if !outcome.details.isEmpty {
                let details = outcome.details.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.number($0.value))" }
                lines.append("  \(outcome.scenario): " + details.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Rows (the first a header) as lines of padded columns, a rule under the header.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = (rows.first ?? []).indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: min(1, lines.count))
        return lines
    }

    static func number(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url)
    }
}
