import Foundation
import Mustache

/// A rendered message, ready for a channel.
public struct RenderedMessage: Sendable, Hashable {
    public var subject: String?
    public var text: String
    public var html: String?

    public init(subject: String?, text: String, html: String?) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// The parts a channel needs, and the file each lives in.
public enum TemplatePart: String, Sendable, CaseIterable {
    case emailSubject = "email.subject", emailText = "email.text", emailHTML = "email.html"
    case smsText = "sms.text", messengerText = "messenger.text", staffText = "staff.text"

    public static func parts(for channel: Channel) -> [TemplatePart] {
        switch channel {
        case .email: return [.emailSubject, .emailText, .emailHTML]
        case .sms: return [.smsText]
        case .messenger: return [.messengerText]
        case .staff: return [.staffText]
        }
    }

    /// Only HTML is HTML-escaped; subjects and text go out as written.
    public var isHTML: Bool { self == .emailHTML }
}

/// Every template, parsed once: `<template>/<locale>/<part>.mustache`. Looking one up falls
/// back from `de-AT` to `de` to the fallback locale.
public struct TemplateCatalog: Sendable {
    public struct Key: Hashable, Sendable {
        public var template: String
        public var locale: String
        public var part: TemplatePart

        public init(template: String, locale: String, part: TemplatePart) {
            self.template = template
            self.locale = locale
            self.part = part
        }
    }

    public let fallbackLocale: String
    public private(set) var templates: [Key: MustacheTemplate] = [:]
    /// The same templates compiled for JSON contexts, where `JSONTemplate` supports them.
    private(set) var compiled: [Key: JSONTemplate] = [:]
    /// Sources by key, for `tidings check` to lint.
    public private(set) var sources: [Key: String] = [:]

    /// Parses files given by their path relative to the templates directory.
    public init(files: [String: String], fallbackLocale: String) throws {
        self.fallbackLocale = fallbackLocale
        for (path, source) in files {
            let components = path.split(separator: "/").map(String.init)
            guard components.count == 3, components[2].hasSuffix(".mustache"),
                let part = TemplatePart(rawValue: String(components[2].dropLast(".mustache".count)))
            else { continue }
            let key = Key(template: components[0], locale: components[1], part: part)
            let text = part.isHTML ? source : "{{% CONTENT_TYPE: TEXT}}\n" + source
            do {
                templates[key] = try MustacheTemplate(string: text)
            } catch let error as MustacheTemplate.ParserError {
                let line = part.isHTML ? error.context.lineNumber : error.context.lineNumber - 1
                throw TemplateError(.syntax, "\(path) line \(line): \(error.error)")
            }
            sources[key] = source
            compiled[key] = JSONTemplate(source, escapes: part.isHTML)
        }
    }

    /// The locales to try, most specific first.
    public func localeChain(_ locale: String) -> [String] {
        var chain = [locale]
        if let dash = locale.firstIndex(where: { $0 == "-" || $0 == "_" }) { chain.append(String(locale[..<dash])) }
        chain.append(fallbackLocale)
        return chain
    }

    public func template(_ template: String, _ part: TemplatePart, locale: String) -> (Key, MustacheTemplate)? {
        for candidate in localeChain(locale) {
            let key = Key(template: template, locale: candidate, part: part)
            if let found = templates[key] { return (key, found) }
        }
        return nil
    }

    public func render(template: String, channel: Channel, locale: String, context: JSONValue) throws -> RenderedMessage {
        var values: Any?
        func part(_ part: TemplatePart) throws -> String {
            guard let (key, found) = self.template(template, part, locale: locale) else {
                throw TemplateError(.missing, "no template \(template)/\(fallbackLocale)/\(part.rawValue).mustache (locale \(locale))")
            }
            if let text = compiled[key]?.render(context) { return text }
            let converted = values ?? MustacheValue.convert(context)
            values = converted
            return found.render(converted)
        }
        switch channel {
        case .email:
            return RenderedMessage(subject: Self.oneLine(try part(.emailSubject)), text: try part(.emailText), html: try part(.emailHTML))
        case .sms:
            return RenderedMessage(subject: nil, text: try part(.smsText).trimmingWhitespace(), html: nil)
        case .messenger, .staff:
            let text = try part(channel == .staff ? .staffText : .messengerText)
            return RenderedMessage(subject: nil, text: text.trimmingWhitespace(), html: nil)
        }
    }
}

extension TemplateCatalog {
    /// A subject on one line: line ends joined by spaces, white space trimmed. Printable ASCII,
    /// the usual subject, has neither line ends nor white space but the space: it is trimmed
    /// without walking its characters (the walk was a twentieth of rendering an email).
    static func oneLine(_ text: String) -> String {
        let utf8 = text.utf8
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            guard utf8.first == 0x20 || utf8.last == 0x20 else { return text }
            return String(text.trimming { $0 == " " })
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingWhitespace()
    }
}

/// Errors of the template domain.
public struct TemplateError: DomainError {
    public enum Code: String, Sendable {
        case missing = "template.missing"
        case syntax = "template.syntax"
        case unknownVariable = "template.unknown_variable"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Turns JSON into what the Mustache engine walks: dictionaries, arrays and strings, with
/// whole numbers shown without a decimal point.
enum MustacheValue {
    static func convert(_ value: JSONValue) -> Any {
        switch value {
        case .null: return ""
        case .bool(let b): return b
        case .number: return value.textValue ?? ""
        case .string(let s): return s
        case .array(let items): return items.map(convert)
        case .object(let fields):
            return Dictionary(fields.lazy.filter { $0.value != .null }.map { ($0.key, convert($0.value)) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
