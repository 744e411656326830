/// Finds variables a template uses that the context does not have. The Mustache engine renders
/// a misspelt name as nothing, so `tidings check` walks the tags itself against sample data.
public enum TemplateLinter {
    public static func unknownVariables(in source: String, context: JSONValue) -> [String] {
        var unknown: [String] = []
        var stack: [JSONValue] = [context]
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            var tripled = false
            if rest.first == "{" {
                tripled = true
                rest = rest.dropFirst()
            }
            guard let close = rest.range(of: tripled ? "}}}" : "}}") else { break }
            let tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            guard let sigil = tag.first else { continue }
            switch sigil {
            case "!", "%", ">", "=": continue
            case "#", "^":
                let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                let value = resolve(name, in: stack)
                if value == nil { unknown.append(name) }
                if sigil == "#", let value {
                    switch value {
                    case .array(let items): stack.append(items.first ?? .object([:]))
                    case .object: stack.append(value)
                    default: stack.append(.object([:]))
                    }
                } else {
                    stack.append(.object([:]))
                }
            case "/":
                if stack.count > 1 { stack.removeLast() }
            default:
                let name = sigil == "&" ? tag.dropFirst().trimmingCharacters(in: .whitespaces) : tag
                if resolve(name, in: stack) == nil { unknown.append(name) }
            }
        }
        return unknown
    }

    /// Mustache's lookup: the first name climbs the context stack, the rest goes down.
    static func resolve(_ name: String, in stack: [JSONValue]) -> JSONValue? {
        if name == "." { return stack.last }
        let parts = name.split(separator: ".").map(String.init)
        guard let first = parts.first else { return nil }
        for context in stack.reversed() {
            guard var value = context[first] else { continue }
            for part in parts.dropFirst() {
                guard let next = value[part] else { return nil }
                value = next
            }
            return value
        }
        return nil
    }
}
