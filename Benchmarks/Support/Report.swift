import Foundation

/// One row of the table: a scenario's figure, the reference tool's figure from the same run
/// where the target is a ratio, and whether the target was met.
struct Outcome: Codable {
    var scenario: String
    var figure: Double
    var unit: String
    var reference: Double?
    var referenceTool: String?
    var target: String
    var pass: Bool
    /// Further readings (resident memory, percentiles, counts) that back the figure.
    var details: [String: Double] = [:]
    var error: String?

    var ratio: Double? { reference.map { $0 > 0 ? figure / $0 : 0 } }

    enum CodingKeys: String, CodingKey {
        case scenario, figure, unit, reference, referenceTool = "reference_tool", target, pass, details, error, ratio
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(figure, forKey: .figure)
        try container.encode(unit, forKey: .unit)
        try container.encodeIfPresent(reference, forKey: .reference)
        try container.encodeIfPresent(referenceTool, forKey: .referenceTool)
        try container.encodeIfPresent(ratio, forKey: .ratio)
        try container.encode(target, forKey: .target)
        try container.encode(pass, forKey: .pass)
        try container.encode(details, forKey: .details)
        try container.encodeIfPresent(error, forKey: .error)
    }

    init(scenario: String, figure: Double, unit: String, reference: Double? = nil, referenceTool: String? = nil, target: String,
         pass: Bool, details: [String: Double] = [:]) {
        self.scenario = scenario
        self.figure = figure
        self.unit = unit
        self.reference = reference
        self.referenceTool = referenceTool
        self.target = target
        self.pass = pass
        self.details = details
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scenario = try container.decode(String.self, forKey: .scenario)
        figure = try container.decode(Double.self, forKey: .figure)
        unit = try container.decode(String.self, forKey: .unit)
        reference = try container.decodeIfPresent(Double.self, forKey: .reference)
        referenceTool = try container.decodeIfPresent(String.self, forKey: .referenceTool)
        target = try container.decode(String.self, forKey: .target)
        pass = try container.decode(Bool.self, forKey: .pass)
        details = try container.decode([String: Double].self, forKey: .details)
        error = try container.decodeIfPresent(String.self, forKey: .error)
    }

    static func failed(_ scenario: String, target: String, _ error: Error) -> Outcome {
        var outcome = Outcome(scenario: scenario, figure: 0, unit: "", target: target, pass: false)
        outcome.error = "\(error)"
        return outcome
    }
}

/// The results of a run: the table on stdout and the same rows as JSON.
struct Report: Codable {
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
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        for outcome in outcomes {
            if let error = outcome.error { lines.append("\(outcome.scenario): \(error)") }
            if !outcome.details.isEmpty {
                let details = outcome.details.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.number($0.value))" }
                lines.append("  \(outcome.scenario): " + details.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
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
