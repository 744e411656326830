import Foundation

/// Two builds measured in turn (`--against`): each runs the chosen scenarios once a round, the
/// order alternating between rounds, so that a machine's slow and fast spells fall on both.
/// The table gives every run's figure and each side's median; a single run of either is no
/// evidence on a noisy machine, several alternating ones are. It judges no target.
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

    enum Side: String, CaseIterable {
        case binary = "--tidings", against = "--against"
    }

    enum CodingKeys: String, CodingKey {
        case started, machine, scale, binary, against, binaryRuns = "binary_runs", againstRuns = "against_runs"
    }

    /// One scenario's figure (or one of its details) in every run of each side.
    struct Row {
        var name: String
        var unit: String
        var binary: [Double] = []
        var against: [Double] = []

        mutating func add(_ value: Double, _ side: Side) {
            if side == .binary { binary.append(value) } else { against.append(value) }
        }
    }

    func runs(_ side: Side) -> [[Outcome]] { side == .binary ? binaryRuns : againstRuns }

    mutating func add(_ outcomes: [Outcome], for side: Side) {
        if side == .binary { binaryRuns.append(outcomes) } else { againstRuns.append(outcomes) }
    }

    /// The order a round runs the two sides in: the first round starts with the binary
    /// measured, the next with the other (an even number of rounds gives each the lead equally).
    static func order(round: Int) -> [Side] { round.isMultiple(of: 2) ? [.binary, .against] : [.against, .binary] }

    /// The runs that failed, by round and side, with why.
    var errors: [String] {
        Side.allCases.flatMap { side in
            runs(side).enumerated().flatMap { round, outcomes in
                outcomes.compactMap { outcome in outcome.error.map { "round \(round + 1), \(side.rawValue), \(outcome.scenario): \($0)" } }
            }
        }
    }

    /// The scenarios' figures in the order they first came. A run that failed has no figure: it
    /// is listed under the table (`errors`).
    func figures() -> [Row] {
        var rows: [Row] = []
        for side in Side.allCases {
            for outcome in runs(side).joined() where outcome.error == nil {
                if let index = rows.firstIndex(where: { $0.name == outcome.scenario }) {
                    rows[index].add(outcome.figure, side)
                } else {
                    var row = Row(name: outcome.scenario, unit: outcome.unit)
                    row.add(outcome.figure, side)
                    rows.append(row)
                }
            }
        }
        return rows
    }

    /// A scenario's details that both sides reported (CPU per message, seconds, the ratio to a
    /// reference tool), in every run of each side.
    func details(of scenario: String) -> [Row] {
        var rows: [String: Row] = [:]
        for side in Side.allCases {
            for outcome in runs(side).joined() where outcome.scenario == scenario && outcome.error == nil {
                var details = outcome.details
                // The figure over its reference tool's in the same run: what drifts with the
                // machine drifts in both.
                if let ratio = outcome.ratio { details["ratio_to_reference"] = ratio }
                for (key, value) in details { rows[key, default: Row(name: key, unit: "")].add(value, side) }
            }
        }
        return rows.values.filter { !$0.binary.isEmpty && !$0.against.isEmpty }.sorted { $0.name < $1.name }
    }

    func table() -> String {
        let header = ["scenario", "--tidings, each run", "--against, each run", "median, --tidings", "median, --against", "ratio"]
        var rows = [header]
        let figures = self.figures()
        for row in figures {
            let (mine, theirs) = (Self.median(row.binary), Self.median(row.against))
            rows.append([
                row.name, row.binary.map(Report.number).joined(separator: ", "), row.against.map(Report.number).joined(separator: ", "),
                mine.map { "\(Report.number($0)) \(row.unit)" } ?? "-", theirs.map { "\(Report.number($0)) \(row.unit)" } ?? "-",
                Self.ratio(mine, theirs),
            ])
        }
        var lines = Report.columns(rows)
        for row in figures {
            let details = self.details(of: row.name).map { detail in
                let (mine, theirs) = (Self.median(detail.binary), Self.median(detail.against))
                return "\(detail.name) \(mine.map(Report.number) ?? "-") against \(theirs.map(Report.number) ?? "-") (\(Self.ratio(mine, theirs)))"
            }
            if !details.isEmpty { lines.append("  \(row.name), medians: " + details.joined(separator: ", ")) }
        }
        lines.append("ratio: the median with --tidings over the median with --against (above 1: a larger figure, better for a rate, worse for a time).")
        lines += errors.map { "failed: \($0)" }
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
