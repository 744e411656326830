import Foundation
import Mustache
import Testing
@testable import TidingsCore

/// `JSONTemplate` must render exactly what swift-mustache renders: every shipped template, on the
/// sample context of every event type, and on contexts mutated at random (fields missing, null,
/// empty, of another type).
@Suite("Templates compiled for JSON")
struct JSONTemplateTests {
    static let templates: [String: String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config/templates").standardized
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "mustache", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            files[String(url.path.dropFirst(root.path.count + 1))] = text
        }
        return files
    }()

    static let contexts: [JSONValue] = SampleData.dataByType.keys.sorted().map { type in
        let isTicket = type.hasPrefix("ticket.")
        return TemplateContext.make(event: SampleData.event(type: type), customer: SampleData.customer, order: SampleData.order,
                                    ticket: isTicket ? SampleData.ticket(promises: .standard) : nil,
                                    shop: ShopInfo(name: "Northwind <Goods> & \"Co\"", email: "help@northwind.example", url: "https://n.example", phone: "+44 1"),
                                    promises: .standard).json
    }

    /// Both engines, the way `TemplateCatalog` sets them up.
    func both(_ path: String, _ source: String, _ context: JSONValue) throws -> (fast: String?, reference: String) {
        let html = path.hasSuffix("email.html.mustache")
        let reference = try MustacheTemplate(string: html ? source : "{{% CONTENT_TYPE: TEXT}}\n" + source)
        let fast = JSONTemplate(source, escapes: html, collections: .unsupported)
        return (fast?.render(context), reference.render(MustacheValue.convert(context)))
    }

    @Test func everyShippedTemplateCompilesAndRendersAsSwiftMustache() throws {
        #expect(Self.templates.count > 100)
        for (path, source) in Self.templates.sorted(by: { $0.key < $1.key }) {
            #expect(JSONTemplate(source, escapes: false) != nil, "\(path) is not compiled")
            for context in Self.contexts {
                let (fast, reference) = try both(path, source, context)
                #expect(fast == reference, "\(path)")
            }
        }
    }

    @Test func mutatedContextsRenderAsSwiftMustache() throws {
        var generator = SystemRandomNumberGenerator()
        let replacements: [JSONValue] = [.null, "", "<b>&'\"", 0, 3.5, true, false, [], ["x"], [:], ["name": "N"], [.null, "a"]]
        for (path, source) in Self.templates.sorted(by: { $0.key < $1.key }) {
            for _ in 0..<8 {
                var context = Self.contexts.randomElement(using: &generator) ?? .null
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    context = Self.mutate(context, replacements.randomElement(using: &generator) ?? .null, using: &generator)
                }
                let (fast, reference) = try both(path, source, context)
                // Nil means "render through swift-mustache": allowed, never a different text.
                if let fast { #expect(fast == reference, "\(path)") }
            }
        }
    }

    /// Replaces one field, anywhere in the tree, by `value`, or removes it.
    static func mutate(_ value: JSONValue, _ replacement: JSONValue, using generator: inout SystemRandomNumberGenerator) -> JSONValue {
        switch value {
        case .object(var fields):
            guard let key = fields.keys.sorted().randomElement(using: &generator) else { return value }
            if Bool.random(using: &generator), let inner = fields[key], case .object = inner {
                fields[key] = mutate(inner, replacement, using: &generator)
            } else if Bool.random(using: &generator), let inner = fields[key], case .array = inner {
                fields[key] = mutate(inner, replacement, using: &generator)
            } else if Int.random(in: 0..<5, using: &generator) == 0 {
                fields[key] = nil
            } else {
                fields[key] = replacement
            }
            return .object(fields)
        case .array(var items):
            guard !items.isEmpty else { return value }
            let index = Int.random(in: 0..<items.count, using: &generator)
            items[index] = mutate(items[index], replacement, using: &generator)
            return .array(items)
        default:
            return replacement
        }
    }

    @Test func theSubsetAndItsEdges() throws {
        let cases: [(String, JSONValue)] = [
            ("Hi {{name}}!\n{{#items}}\n- {{name}}\n{{/items}}\n{{#tags}}[{{.}}]{{/tags}}{{^items}}none{{/items}}\n",
             ["name": "A", "items": [["name": "x"], ["other": 1]], "tags": ["y", 2, true]]),
            ("  {{#flag}}  \n yes\n  {{/flag}}\n{{! a comment }}\nend", ["flag": true]),
            ("{{a.b.c}} {{a.x.c}} {{{raw}}} {{&raw}} {{raw}}", ["a": ["b": ["c": "deep"]], "raw": "<i>"]),
            ("{{#a}}{{b}}{{/a}}|{{^a}}no a{{/a}}|{{#e}}empty string renders{{/e}}", ["a": ["b": 1], "b": "outer", "e": ""]),
            ("{{#list}}{{#.}}[{{.}}]{{/.}}{{/list}}", ["list": ["p", .null, "q"]]),
            ("\r\n{{#x}}\r\nline\r\n{{/x}}\r\n", ["x": [:]]),
            ("no newline at the end {{#x}}{{/x}}", [:]),
        ]
        for (source, context) in cases {
            for html in [false, true] {
                let (fast, reference) = try both(html ? "t/en/email.html.mustache" : "t/en/sms.text.mustache", source, context)
                #expect(fast == reference, "\(source.debugDescription)")
            }
        }
        // An object or array printed as a variable comes out as sorted JSON (escaped in HTML),
        // the same on every run; the parity tests leave it to swift-mustache.
        #expect(JSONTemplate("{{a}}", escapes: false)?.render(["a": ["z": 1, "b": ["<"]]]) == #"{"b":["<"],"z":1}"#)
        #expect(JSONTemplate("{{a}}", escapes: true)?.render(["a": ["b": "<"]]) == "{&quot;b&quot;:&quot;&lt;&quot;}")
        #expect(JSONTemplate("{{a}}", escapes: false, collections: .unsupported)?.render(["a": ["b": 1]]) == nil)
        // Not the subset: swift-mustache renders these.
        for source in ["{{> partial}}", "{{=<% %>=}}", "{{uppercased(name)}}", "{{#a}}unclosed", "{{/a}}", "{{name", "{{$block}}{{/block}}"] {
            #expect(JSONTemplate(source, escapes: false) == nil, "\(source)")
        }
    }
}
