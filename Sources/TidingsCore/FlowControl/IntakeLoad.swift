/// Whether ingest's group commits apply their own events (`InlineProjection`), judged by how
/// large the groups run. A group's size is how many requests waited for one commit. Small
/// groups mean the writer keeps up: applying the events inline costs little, and a complaint's
/// acknowledgement is written and claimed by the time its request is answered. Groups that stay
/// large mean the writer is the limit, and applying them inline would hold every request in
/// each group for the pipeline's work as well: then a group only appends, and the pipeline
/// applies the events in its own batches, which yield to waiting requests. A burst does not
/// switch it either way: the average moves an eighth of the way each group, and the two
/// thresholds lie apart.
public struct IntakeLoad: Sendable, Hashable {
    /// Above this average, groups stop applying inline.
    public var saturatedAbove: Double
    /// Below this average, they apply inline again.
    public var easedBelow: Double
    public private(set) var averageGroup: Double = 1
    public private(set) var appliesInline = true

    public init(saturatedAbove: Double = 24, easedBelow: Double = 12) {
        self.saturatedAbove = saturatedAbove
        self.easedBelow = min(easedBelow, saturatedAbove)
    }

    /// Counts one group commit of `requests`; returns whether the mode changed.
    @discardableResult
    public mutating func record(requests: Int) -> Bool {
        averageGroup += (Double(max(0, requests)) - averageGroup) / 8
        let before = appliesInline
        if appliesInline, averageGroup > saturatedAbove { appliesInline = false }
        if !appliesInline, averageGroup < easedBelow { appliesInline = true }
        return appliesInline != before
    }
}
