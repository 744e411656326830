/// Whether ingest's group commits apply their own events (`InlineProjection`), from how many
/// requests wait for each commit: groups that stay large mean the writer is the limit, and
/// applying them inline would hold every request for the pipeline's work too.
public struct IntakeLoad: Sendable {
    /// Above this average group, groups only store their events.
    public let saturatedAbove: Double
    /// Below it, they apply them again.
    public let easedBelow: Double
    /// A writer that waited this long for a request is not saturated, whatever came before.
    public static let restAfter: Duration = .milliseconds(100)
    /// Moves an eighth of the way each group: one burst does not switch it.
    public private(set) var averageGroup: Double = 1
    public private(set) var appliesInline = true

    public init(saturatedAbove: Double = 24, easedBelow: Double = 12) {
        self.saturatedAbove = saturatedAbove
        self.easedBelow = min(easedBelow, saturatedAbove)
    }

    /// Counts one group commit of `requests`, after the writer `waited` for the first of
    /// them; returns whether the mode changed.
    @discardableResult
    public mutating func record(requests: Int, waited: Duration = .zero) -> Bool {
        let before = appliesInline
        if waited >= Self.restAfter {
            averageGroup = 1
            appliesInline = true
        }
        averageGroup += (Double(max(0, requests)) - averageGroup) / 8
        if appliesInline, averageGroup > saturatedAbove { appliesInline = false }
        if !appliesInline, averageGroup < easedBelow { appliesInline = true }
        return appliesInline != before
    }
}
