/// A Mustache template compiled to walk a `JSONValue` context directly. swift-mustache walks
/// `Any` with dynamic casts at every lookup, which was a fifth of a send's CPU; this renders the
/// subset templates use (variables, `{{{ }}}` and `{{& }}`, sections, inverted sections,
/// comments, `.`) the same way, and `init` returns nil for anything else (partials, delimiter
/// changes, transforms, inheritance), which then renders through swift-mustache as before.
/// A test renders every shipped template both ways, on sample and mutated contexts.
///
/// One departure: an object or list printed as a variable comes out as JSON with sorted keys.
/// swift-mustache prints Swift's description of a dictionary, in an order that changes from one
/// run to the next, so a replay of the same message would not read the same.
public struct JSONTemplate: Sendable {
    /// How a variable holding an object or list renders.
    public enum Collections: Sendable {
        /// As JSON with sorted keys.
        case json
        /// Not at all: `render` returns nil (the parity tests, which compare with swift-mustache).
        case unsupported
    }

    indirect enum Node: Sendable {
        case text(String)
        case variable([String], escaped: Bool)
        case section([String], inverted: Bool, [Node])
    }

    let nodes: [Node]
    /// The template's own text, for the output's first allocation: grown by doubling from
    /// empty, an email's HTML was copied several times over as it was written.
    let textLength: Int
    /// HTML-escape `{{ }}` variables (HTML parts); text parts go out as written.
    let escapes: Bool
    let collections: Collections

    public init?(_ source: String, escapes: Bool, collections: Collections = .json) {
        guard let tokens = Self.tokens(source), let (nodes, rest) = Self.tree(tokens[...], closing: nil), rest.isEmpty else { return nil }
        self.nodes = nodes
        textLength = Self.textLength(nodes)
        self.escapes = escapes
        self.collections = collections
    }

    public func render(_ context: JSONValue) -> String? {
        var output = ""
        // A short output fits the string itself, without an allocation.
        if textLength > 15 { output.reserveCapacity(textLength + textLength / 4 + 64) }
        var stack = [context]
        return render(nodes, &stack, into: &output) ? output : nil
    }

    // MARK: Rendering

    private static func textLength(_ nodes: [Node]) -> Int {
        nodes.reduce(0) { length, node in
            switch node {
            case .text(let text): length + text.utf8.count
            case .variable: length
            case .section(_, _, let children): length + textLength(children)
            }
        }
    }

    /// Returns false where this does not cover the template: the caller then renders through
    /// swift-mustache instead.
    private func render(_ nodes: [Node], _ stack: inout [JSONValue], into output: inout String) -> Bool {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let path, let escaped):
                guard let value = Self.lookup(path, in: stack) else { continue }
                switch value {
                case .string(let text): output += escaped && escapes ? HTML.escape(text) : text
                case .number: output += value.textValue ?? ""
                case .bool(let flag): output += flag ? "true" : "false"
                case .null: break
                case .array, .object:
                    // A template that prints a whole object or list (a mistake, or data that is
                    // not the shape the template expects) gets the same words on every render.
                    guard collections == .json, let bytes = try? value.encodedBytes() else { return false }
                    let text = String(decoding: bytes, as: UTF8.self)
                    output += escaped && escapes ? HTML.escape(text) : text
                }
            case .section(let path, let inverted, let children):
                let value = Self.lookup(path, in: stack)
                if inverted {
                    let empty: Bool
                    switch value {
                    case .none: empty = true
                    case .bool(let flag)?: empty = !flag
                    case .array(let items)?: empty = items.isEmpty
                    default: empty = false
                    }
                    if empty, !render(children, &stack, into: &output) { return false }
                    continue
                }
                switch value {
                case .none, .bool(false)?: break
                case .bool(true)?:
                    if !render(children, &stack, into: &output) { return false }
                case .array(let items)?:
                    for item in items {
                        stack.append(item)
                        defer { stack.removeLast() }
                        if !render(children, &stack, into: &output) { return false }
                    }
                case let value?:
                    stack.append(value)
                    defer { stack.removeLast() }
                    if !render(children, &stack, into: &output) { return false }
                }
            }
        }
        return true
    }

    /// A name's value: its first part looked up from the innermost context outwards, the rest
    /// inside that value. Nulls in objects count as absent, a null in an array as "" (what the
    /// catalog handed swift-mustache). Nil when not found.
    static func lookup(_ path: [String], in stack: [JSONValue]) -> JSONValue? {
        guard let first = path.first else { return stack.last.map(present) }
        var found: JSONValue?
        for context in stack.reversed() {
            if case .object(let fields) = context, let value = fields[first], value != .null {
                found = value
                break
            }
        }
        for name in path.dropFirst() {
            guard case .object(let fields)? = found, let value = fields[name], value != .null else { return nil }
            found = value
        }
        return found.map(present)
    }

    private static func present(_ value: JSONValue) -> JSONValue { value == .null ? .string("") : value }

    // MARK: Parsing

    enum Token {
        case text(String)
        /// `#`, `^`, `/`, `!`, `{`, `&`, or nil for a plain variable.
        case tag(Character?, String)
    }

    /// The source split into text and tags, with standalone lines (a section, inverted section,
    /// closing or comment tag alone on its line, but for spaces and tabs) taken out whole, as
    /// the Mustache spec says. Nil for what this does not support.
    static func tokens(_ source: String) -> [Token]? {
        var tokens: [Token] = []
        for line in lines(source) {
            var lineTokens: [Token] = []
            var rest = Substring(line.text)
            while let open = rest.range(of: "{{") {
                if open.lowerBound > rest.startIndex { lineTokens.append(.text(String(rest[..<open.lowerBound]))) }
                rest = rest[open.upperBound...]
                let triple = rest.first == "{"
                guard let close = rest.range(of: triple ? "}}}" : "}}") else { return nil }
                var inside = rest[(triple ? rest.index(after: rest.startIndex) : rest.startIndex)..<close.lowerBound]
                rest = rest[close.upperBound...]
                var sigil: Character? = triple ? "{" : nil
                if !triple, let first = inside.first, "#^/!&".contains(first) {
                    sigil = first
                    inside = inside.dropFirst()
                } else if !triple, let first = inside.first, ">=<$%".contains(first) {
                    return nil
                }
                let name = String(inside).trimmingWhitespace()
                if sigil != "!" {
                    guard !name.isEmpty, !name.contains(where: { $0 == "(" || $0 == ")" || $0 == " " }) else { return nil }
                }
                lineTokens.append(.tag(sigil, name))
            }
            if !rest.isEmpty { lineTokens.append(.text(String(rest))) }
            let tags = lineTokens.filter { if case .tag = $0 { return true } else { return false } }
            let blank = lineTokens.allSatisfy { token in
                if case .text(let text) = token { return text.allSatisfy { $0 == " " || $0 == "\t" } }
                return true
            }
            if tags.count == 1, blank, case .tag(let sigil?, _) = tags[0], "#^/!".contains(sigil) {
                tokens.append(tags[0])
            } else {
                tokens += lineTokens
                if !line.ending.isEmpty { tokens.append(.text(line.ending)) }
            }
        }
        return tokens
    }

    /// Lines with their endings (`\n` or `\r\n`; the last may have none).
    static func lines(_ source: String) -> [(text: String, ending: String)] {
        var lines: [(text: String, ending: String)] = []
        var current = ""
        for character in source {
            if character == "\n" || character == "\r\n" {
                lines.append((current, String(character)))
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append((current, "")) }
        return lines
    }

    /// Nodes up to the closing tag of `closing`; nil on a mismatched or missing close.
    static func tree(_ tokens: ArraySlice<Token>, closing: String?) -> ([Node], ArraySlice<Token>)? {
        var nodes: [Node] = []
        var rest = tokens
        while let token = rest.first {
            rest = rest.dropFirst()
            switch token {
            case .text(let text):
                if case .text(let previous)? = nodes.last {
                    nodes[nodes.count - 1] = .text(previous + text)
                } else {
                    nodes.append(.text(text))
                }
            case .tag(let sigil, let name):
                let path = name == "." ? [] : name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                switch sigil {
                case "!": break
                case "/":
                    return name == closing ? (nodes, rest) : nil
                case "#", "^":
                    guard let (children, after) = tree(rest, closing: name) else { return nil }
                    nodes.append(.section(path, inverted: sigil == "^", children))
                    rest = after
                default:
                    nodes.append(.variable(path, escaped: sigil == nil))
                }
            }
        }
        return closing == nil ? (nodes, rest) : nil
    }
}
