import Foundation

/// Two builds measured in turn (`--against`): each runs the chosen scenarios once a round, the
/// order alternating between rounds, so that a machine's slow and fast spells fall on both.
/// The table gives every run's figure and each side's median; a single run of either is no
/// evidence on a noisy machine, several alternating ones are.
struct Comparison: Encodable {
    var started: String
    var machine: [String: String]
    var scale: Double
    /// The binary measured (`--tidings`) and the one it is compared with (`--against`).
    var binary: String
    var against: String
    /// Each round's outcomes, per side.
    var binaryRuns: [[Outcome]] = []
    var againstRuns: [[Outcome]] = []

    enum Side: CaseIterable {
        case binary, against
    }

    enum CodingKeys: String, CodingKey {
        case started, machine, scale, binary, against, binaryRuns = "binary_runs", againstRuns = "against_runs"
    }

    func runs(_ side: Side) -> [[Outcome]] { side == .binary ? binaryRuns : againstRuns }

    mutating func add(_ outcomes: [Outcome], for side: Side) {
        if side == .binary { binaryRuns.append(outcomes) } else { againstRuns.append(outcomes) }
    }

    /// The order a round runs the two sides in: the first round starts with the binary
    /// measured, the next with the other.
    static func order(round: Int) -> [Side] { round.isMultiple(of: 2) ? [.binary, .against] : [.against, .binary] }

    /// The scenarios' figures in the order they first came, with every run's value per side.
    func figures() -> [(scenario: String, unit: String, binary: [Double], against: [Double])] {
        var rows: [(scenario: String, unit: String, binary: [Double], against: [Double])] = []
        func record(_ outcome: Outcome, _ side: Side) {
            guard outcome.error == nil else { return }
            guard let index = rows.firstIndex(where: { $0.scenario == outcome.scenario }) else {
                rows.append((outcome.scenario, outcome.unit, side == .binary ? [outcome.figure] : [], side == .against ? [outcome.figure] : []))
                return
            }
            if side == .binary { rows[index].binary.append(outcome.figure) } else { rows[index].against.append(outcome.figure) }
        }
        for side in Side.allCases { for round in runs(side) { round.forEach { record($0, side) } } }
        return rows
    }

    /// A detail's runs per side, for the details both sides reported (CPU per message, seconds,
    /// the ratio to a reference tool).
    func details(of scenario: String) -> [(key: String, binary: [Double], against: [Double])] {
        func values(_ side: Side) -> [String: [Double]] {
            var values: [String: [Double]] = [:]
            for round in runs(side) {
                for outcome in round where outcome.scenario == scenario {
                    for (key, value) in outcome.details { values[key, default: []].append(value) }
                    // The figure over its reference tool's in the same run: what drifts with the
                    // machine drifts in both.
                    if let ratio = outcome.ratio { values["ratio_to_reference", default: []].append(ratio) }
                }
            }
            return values
        }
        let (binary, against) = (values(.binary), values(.against))
        return binary.keys.sorted().compactMap { key in against[key].map { (key, binary[key] ?? [], $0) } }
    }

    func table() -> String {
        let header = ["scenario", "--tidings, each run", "--against, each run", "median", "median", "ratio"]
        var rows = [header]
        for row in figures() {
            let (mine, theirs) = (Self.median(row.binary), Self.median(row.against))
            rows.append([
                row.scenario, row.binary.map(Report.number).joined(separator: ", "), row.against.map(Report.number).joined(separator: ", "),
                mine.map { "\(Report.number($0)) \(row.unit)" } ?? "-", theirs.map { "\(Report.number($0)) \(row.unit)" } ?? "-",
                Self.ratio(mine, theirs),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        for row in figures() {
            let details = self.details(of: row.scenario).map { detail in
                let (mine, theirs) = (Self.median(detail.binary), Self.median(detail.against))
                return "\(detail.key) \(mine.map(Report.number) ?? "-") against \(theirs.map(Report.number) ?? "-") (\(Self.ratio(mine, theirs)))"
            }
            if !details.isEmpty { lines.append("  \(row.scenario), medians: " + details.joined(separator: ", ")) }
        }
        lines.append("ratio: the median with --tidings over the median with --against (above 1: a larger figure, better for a rate, worse for a time).")
        return lines.joined(separator: "\n")
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    static func ratio(_ mine: Double?, _ theirs: Double?) -> String {
        guard let mine, let theirs, theirs != 0 else { return "-" }
        return String(format: "%.3f", mine / theirs)
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url)
    }
}
