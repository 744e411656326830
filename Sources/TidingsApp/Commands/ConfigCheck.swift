import Foundation
import TidingsCore

/// `tidings check`: renders every workflow's templates with sample data, for every locale that
/// has them, and reports missing templates and variables the sample context does not have.
public enum ConfigCheck {
    public static func problems(in runtime: Runtime) -> [String] {
        var problems: [String] = []
        let catalog = runtime.catalog
        let locales = Set(catalog.sources.keys.map(\.locale)).sorted()
        for workflow in runtime.workflows.workflows {
            let context = SampleData.context(for: workflow, engine: runtime.engine)
            let channels = Self.channels(of: workflow)
            for channel in channels {
                for part in TemplatePart.parts(for: channel) {
                    let fallbackKey = TemplateCatalog.Key(template: workflow.template, locale: catalog.fallbackLocale, part: part)
                    if catalog.sources[fallbackKey] == nil {
                        problems.append("workflow \(workflow.id): missing template \(workflow.template)/\(catalog.fallbackLocale)/\(part.rawValue).mustache")
                    }
                    for locale in locales {
                        let key = TemplateCatalog.Key(template: workflow.template, locale: locale, part: part)
                        guard let source = catalog.sources[key] else { continue }
                        for name in TemplateLinter.unknownVariables(in: source, context: context) {
                            problems.append("\(workflow.template)/\(locale)/\(part.rawValue).mustache: unknown variable {{\(name)}} (workflow \(workflow.id), event \(workflow.on))")
                        }
                    }
                }
                for locale in locales {
                    do {
                        _ = try catalog.render(template: workflow.template, channel: channel, locale: locale, context: context)
                    } catch {
                        problems.append("workflow \(workflow.id): \(error)")
                    }
                }
            }
        }
        return Array(NSOrderedSet(array: problems)).compactMap { $0 as? String }
    }

    /// Settings that load but will not work as meant: a secret left empty. Never the values.
    public static func warnings(in config: TidingsConfig) -> [String] {
        var warnings: [String] = []
        if config.http.tokens.isEmpty {
            warnings.append("http.tokens is empty (the credential http-tokens): every /v1 request will be refused with 401")
        }
        for (channel, settings) in config.channels.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            switch settings.route {
            case .smtp(let smtp) where smtp.username != nil && (smtp.password ?? "").isEmpty:
                warnings.append("smtp.username is set but smtp.password is empty (the credential smtp-password): AUTH will fail")
            case .webhook(let webhook) where webhook.preset == .twilio && (webhook.password ?? "").isEmpty:
                warnings.append("\(channel.rawValue).webhook.password is empty (the credential \(channel.rawValue)-webhook-password): Twilio will refuse every message")
            default:
                break
            }
        }
        return warnings
    }

    /// The channels a workflow may use: `preferred` can mean any of them.
    static func channels(of workflow: Workflow) -> [Channel] {
        var channels: [Channel] = []
        for choice in workflow.channels {
            switch choice {
            case .preferred: channels.append(contentsOf: Channel.customerChannels)
            case .fixed(let channel): channels.append(channel)
            }
        }
        // Essential customer messages fall back to email when no listed channel is usable.
        if workflow.to == .customer, workflow.category.isEssential { channels.append(.email) }
        return Channel.allCases.filter(channels.contains)
    }
}
