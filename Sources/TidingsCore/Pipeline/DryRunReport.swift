/// What another configuration would have sent, against what this one decided: the report of
/// `tidings replay --dry-run`. Messages are matched by key (workflow, event, order), which no
/// configuration changes; only messages given a channel count (not those skipped or parked).
public struct DryRunReport: Sendable {
    /// One side's message, rendered as the customer reads it.
    public struct Message: Sendable, Hashable {
        public var key: String
        public var workflow: String
        public var channel: Channel
        public var recipient: String?
        /// Subject, text and HTML, or why it does not render.
        public var words: String

        public init(key: String, workflow: String, channel: Channel, recipient: String?, words: String) {
            self.key = key
            self.workflow = workflow
            self.channel = channel
            self.recipient = recipient
            self.words = words
        }

        /// The words of a rendered message, in the order a reader meets them.
        public static func words(_ rendered: RenderedMessage) -> String {
            var parts: [String] = []
            if let subject = rendered.subject { parts.append("Subject: \(subject)\n") }
            parts.append(rendered.text)
            if let html = rendered.html { parts.append("--- HTML ---\n\(html)") }
            return parts.joined(separator: "\n")
        }
    }

    /// Counts for one workflow on one channel.
    public struct Row: Sendable, Hashable {
        public var workflow: String
        public var channel: Channel
        public var live = 0
        public var candidate = 0
        public var added = 0
        public var removed = 0
        public var changed = 0
    }

    public enum Change: String, Sendable {
        case added, removed, changed
    }

    /// A message that differs: its words (added, removed) or a unified diff (changed).
    public struct Example: Sendable, Hashable {
        public var change: Change
        public var message: Message
        public var text: String
    }

    public private(set) var rows: [Row] = []
    public private(set) var examples: [Example] = []

    public var added: Int { rows.reduce(0) { $0 + $1.added } }
    public var removed: Int { rows.reduce(0) { $0 + $1.removed } }
    public var changed: Int { rows.reduce(0) { $0 + $1.changed } }

    /// A message on another channel is removed from one row and added to the other; on the
    /// same channel, another recipient or other words make it changed.
    public init(live: [Message], candidate: [Message], examplesPerChange: Int = 3) {
        var table: [String: Row] = [:]
        func row(_ message: Message, _ change: (inout Row) -> Void) {
            let id = "\(message.workflow)\u{0}\(message.channel.rawValue)"
            var row = table[id] ?? Row(workflow: message.workflow, channel: message.channel)
            change(&row)
            table[id] = row
        }
        var shown: [Change: Int] = [:]
        func example(_ change: Change, _ message: Message, _ text: @autoclosure () -> String) {
            guard shown[change, default: 0] < examplesPerChange else { return }
            shown[change, default: 0] += 1
            examples.append(Example(change: change, message: message, text: text()))
        }
        let candidates = Dictionary(candidate.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let lives = Dictionary(live.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for message in live.sorted(by: { $0.key < $1.key }) {
            row(message) { $0.live += 1 }
            guard let other = candidates[message.key], other.channel == message.channel else {
                row(message) { $0.removed += 1 }
                example(.removed, message, message.words)
                continue
            }
            if other.recipient != message.recipient || other.words != message.words {
                row(other) { $0.changed += 1 }
                var text = UnifiedDiff.of(message.words, other.words, oldName: "sent", newName: "candidate")
                if other.recipient != message.recipient {
                    text = "recipient: \(message.recipient ?? "-") -> \(other.recipient ?? "-")\n" + text
                }
                example(.changed, other, text)
            }
        }
        for message in candidate.sorted(by: { $0.key < $1.key }) {
            row(message) { $0.candidate += 1 }
            if lives[message.key]?.channel != message.channel {
                row(message) { $0.added += 1 }
                example(.added, message, message.words)
            }
        }
        rows = table.values.sorted { ($0.workflow, $0.channel.rawValue) < ($1.workflow, $1.channel.rawValue) }
    }
}
