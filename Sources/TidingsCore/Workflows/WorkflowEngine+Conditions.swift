extension WorkflowEngine {
    /// A context's top-level members as workflow conditions read them: each built at most once
    /// for one event, however many workflows ask. A context the engine made builds a member by
    /// writing it, and three workflows that asked about `ticket.kind` built the ticket three times.
    struct Conditions {
        let context: MessageContext
        private var members: [String: JSONValue?] = [:]

        init(_ context: MessageContext) {
            self.context = context
        }

        /// A dotted path such as `ticket.kind`, as `MessageContext.value(atPath:)` reads it.
        mutating func value(atPath path: String) -> JSONValue? {
            MessageContext.value(atPath: path, whole: context.json) { member($0) }
        }

        private mutating func member(_ key: String) -> JSONValue? {
            if let known = members[key] { return known }
            let member = context[key]
            members[key] = member
            return member
        }

        /// Every condition must hold; a condition holds when the value at its path equals one
        /// of the listed values. Conditions under `skipping` (a path prefix) are not checked yet.
        mutating func hold(_ conditions: [String: [String]], skipping prefix: String? = nil) -> Bool {
            for (path, allowed) in conditions {
                if let prefix, path.hasPrefix(prefix) { continue }
                guard let value = value(atPath: path)?.textValue, allowed.contains(value) else { return false }
            }
            return true
        }
    }
}
