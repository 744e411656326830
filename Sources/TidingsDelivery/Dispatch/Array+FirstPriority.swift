import TidingsCore

extension [OutboxMessage] {
    /// How many go out first, read in place: `count(where:)` copied every message it looked
    /// at (a retain per field), and `room` asks at every step, while a fan-out's claims ahead
    /// can number a thousand: 12% of the dispatcher's time in one (BENCHMARKS.md).
    var firstPriorityCount: Int {
        var count = 0
        for index in indices where self[index].priority == .first { count += 1 }
        return count
    }
}
