import Foundation
import TidingsCore

/// `tidings replay --dry-run`: the log through a candidate's workflows and templates, in
/// memory, against what the running configuration decided for the same events.
public enum DryRun {
    /// Replays the log up to the end of `positions` with the candidate and compares the
    /// messages of the events in `positions`. Writes nothing.
    public static func compare(store: some DryRunSource, live: Runtime, candidate: Runtime, positions: ClosedRange<Int64>, now: Date,
                               examplesPerChange: Int = 3) async throws -> (report: DryRunReport, events: Int)
    {
        var replay = Replay(engine: candidate.engine, skipping: try await store.failedEvents())
        var proposed: [DryRunReport.Message] = []
        // As the outbox's side leaves them out: what a forgotten customer's messages said, or
        // what retention dropped, is gone, and cannot be compared.
        let forgotten = try await store.forgottenCustomers(), erased = try await store.erasedKeys(positions: positions)
        try await store.replay(&replay, through: positions.upperBound, now: now) { _, intents in
            for intent in intents where positions.contains(intent.eventPosition) && !forgotten.contains(intent.customerID)
                && !erased.contains(intent.key) {
                guard let channel = intent.channel else { continue }
                proposed.append(DryRunReport.Message(
                    key: intent.key, workflow: intent.workflow, channel: channel, recipient: intent.recipient,
                    words: words { try candidate.catalog.render(template: intent.template, channel: channel, locale: intent.locale,
                                                                context: intent.context.json) }))
            }
        }
        let decided = try await store.decidedMessages(positions: positions).map { row in
            DryRunReport.Message(key: row.key, workflow: row.workflow, channel: row.channel, recipient: row.recipient, words: words {
                try live.catalog.render(template: row.template, channel: row.channel, locale: row.locale, context: JSONValue.parse(row.context))
            })
        }
        return (DryRunReport(live: decided, candidate: proposed, examplesPerChange: examplesPerChange), replay.applied)
    }

    /// The words of a message, or why it does not render (a difference worth showing too).
    static func words(_ render: () throws -> RenderedMessage) -> String {
        do { return DryRunReport.Message.words(try render()) } catch { return "(does not render: \(error))" }
    }
}
