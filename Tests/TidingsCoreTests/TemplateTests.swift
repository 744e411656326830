import Testing
@testable import TidingsCore

@Suite("Templates")
struct TemplateTests {
    let files = [
        "hello/en/email.subject.mustache": "Hello {{customer.name}}",
        "hello/en/email.text.mustache": "Dear {{customer.name}},\n{{#order.items}}- {{name}} x{{quantity}}\n{{/order.items}}",
        "hello/en/email.html.mustache": "<p>Dear {{customer.name}}</p>",
        "hello/en/sms.text.mustache": "Hi {{customer.first_name}}",
        "hello/de/sms.text.mustache": "Hallo {{customer.first_name}}",
    ]

    let context: JSONValue = [
        "customer": ["name": "Ann <b>&</b> Bob", "first_name": "Ann"],
        "order": ["items": [["name": "Mug", "quantity": 2]]],
    ]

    @Test func escapesHTMLOnlyInTheHTMLPart() throws {
        let catalog = try TemplateCatalog(files: files, fallbackLocale: "en")
        let message = try catalog.render(template: "hello", channel: .email, locale: "en", context: context)
        #expect(message.subject == "Hello Ann <b>&</b> Bob")
        #expect(message.text.hasPrefix("Dear Ann <b>&</b> Bob,\n- Mug x2\n"))
        #expect(message.html == "<p>Dear Ann &lt;b&gt;&amp;&lt;/b&gt; Bob</p>")
    }

    /// A subject is one line: line ends of any kind become spaces, and white space at either
    /// end goes. The quick way for printable ASCII gives what the full walk gives.
    @Test func aSubjectIsOneLineWhateverItsText() {
        #expect(TemplateCatalog.oneLine("  Your order\r\nshipped \u{2028} today\n ") == "Your order shipped   today")
        #expect(TemplateCatalog.oneLine(" Hello Ann ") == "Hello Ann")
        let pieces = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u{85}", "\u{2028}", "\u{A0}", "a", "Z", "~", "ü", "e\u{301}", "😀"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            let expected = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingWhitespace()
            #expect(TemplateCatalog.oneLine(text) == expected, "\(text.debugDescription)")
        }
    }

    @Test func fallsBackFromRegionToLanguageToDefault() throws {
        let catalog = try TemplateCatalog(files: files, fallbackLocale: "en")
        #expect(try catalog.render(template: "hello", channel: .sms, locale: "de-AT", context: context).text == "Hallo Ann")
        #expect(try catalog.render(template: "hello", channel: .sms, locale: "fr", context: context).text == "Hi Ann")
        #expect(throws: TemplateError.self) { try catalog.render(template: "missing", channel: .sms, locale: "en", context: context) }
    }

    @Test func reportsSyntaxErrorsWithTheFile() {
        #expect(throws: TemplateError.self) { try TemplateCatalog(files: ["x/en/sms.text.mustache": "{{#open}}"], fallbackLocale: "en") }
    }

    @Test func linterFindsUnknownVariablesAndKnowsSections() {
        let source = "{{customer.name}} {{customer.nmae}} {{#order.items}}{{name}} {{sku}}{{/order.items}} {{^order.gone}}x{{/order.gone}}"
        #expect(TemplateLinter.unknownVariables(in: source, context: context) == ["customer.nmae", "sku", "order.gone"])
    }

    @Test func sampleContextsCoverEveryTemplateVariable() {
        let workflow = Workflow(id: "w", on: "ticket.opened", category: .acknowledgement, channels: [.fixed(.email)], template: "t")
        let sample = SampleData.context(for: workflow, engine: WorkflowEngine(workflows: WorkflowSet(workflows: [workflow]), shop: Fixtures.shop))
        let source = "{{ticket.reference}} {{ticket.first_response_due}} {{ticket.resolution_days}} {{data.summary}} {{customer.email}}"
        #expect(TemplateLinter.unknownVariables(in: source, context: sample).isEmpty)
    }
}
