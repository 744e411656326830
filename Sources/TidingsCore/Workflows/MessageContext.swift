import Foundation

/// A message's rendering context: made by the workflow engine from typed values (written to the
/// outbox without a tree), or read back from the outbox (a parked message's, amended once its
/// customer is known). Equal when their trees are.
public enum MessageContext: Sendable, Hashable {
    case made(TemplateContext)
    case document(JSONValue)

    /// The context as a tree, for rendering.
    public var json: JSONValue {
        switch self {
        case .made(let context): context.json
        case .document(let value): value
        }
    }

    /// One top-level member.
    public subscript(key: String) -> JSONValue? {
        switch self {
        case .made(let context): context.member(key)
        case .document(let value): value[key]
        }
    }

    /// A dotted path such as `ticket.kind`, building only the member it starts in.
    public func value(atPath path: String) -> JSONValue? {
        Self.value(atPath: path, whole: json) { self[$0] }
    }

    /// How a path is read: its first part names a member (`member`), the rest is read inside
    /// it; an empty path is the whole context. For readers that find members their own way
    /// (`WorkflowEngine.Conditions` keeps those it built).
    static func value(atPath path: String, whole: @autoclosure () -> JSONValue, member: (String) -> JSONValue?) -> JSONValue? {
        let parts = path.split(separator: ".", maxSplits: 1)
        guard let first = parts.first else { return whole() }
        let found = member(String(first))
        return parts.count > 1 ? found?.value(atPath: String(parts[1])) : found
    }

    /// The stored bytes (canonical JSON, keys sorted).
    public func encoded() throws(JSONValue.EncodingError) -> Data {
        switch self {
        case .made(let context): Data(try context.encoded())
        case .document(let value): try value.encoded()
        }
    }

    public static func == (a: MessageContext, b: MessageContext) -> Bool { a.json == b.json }

    public func hash(into hasher: inout Hasher) { hasher.combine(json) }
}
