/// Two texts compared line by line and printed as `diff -u` does: how a changed message reads
/// before and after (`tidings replay --dry-run`). Meant for messages: quadratic in their lines.
public enum UnifiedDiff {
    struct Line {
        var mark: Character
        var text: Substring
    }

    public static func of(_ old: String, _ new: String, oldName: String, newName: String, context: Int = 3) -> String {
        let script = edits(old.split(separator: "\n", omittingEmptySubsequences: false), new.split(separator: "\n", omittingEmptySubsequences: false))
        let changed = script.indices.filter { script[$0].mark != " " }
        guard !changed.isEmpty else { return "" }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(script.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...range.upperBound
            } else {
                hunks.append(range)
            }
        }
        var output = ["--- \(oldName)", "+++ \(newName)"]
        for hunk in hunks {
            let before = script[..<hunk.lowerBound]
            let oldStart = before.filter { $0.mark != "+" }.count + 1
            let newStart = before.filter { $0.mark != "-" }.count + 1
            let oldCount = script[hunk].filter { $0.mark != "+" }.count
            let newCount = script[hunk].filter { $0.mark != "-" }.count
            output.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            output += script[hunk].map { "\($0.mark)\($0.text)" }
        }
        return output.joined(separator: "\n")
    }

    /// The shortest edit script by longest common subsequence: kept, removed and added lines in order.
    static func edits(_ a: [Substring], _ b: [Substring]) -> [Line] {
        var common = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var script: [Line] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                script.append(Line(mark: " ", text: a[i]))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || common[i + 1][j] >= common[i][j + 1] {
                script.append(Line(mark: "-", text: a[i]))
                i += 1
            } else {
                script.append(Line(mark: "+", text: b[j]))
                j += 1
            }
        }
        return script
    }
}
