import Foundation
import Hummingbird
import TidingsCore

/// The console's workflow and template preview: a workflow's templates in any locale they
/// have, rendered from the sample event `tidings check` uses, or from the data of a real
/// message (the context frozen from its event when it was made).
extension API {
    /// What the preview renders from.
    enum PreviewData {
        case sample
        /// A stored message: its id, the workflow that made it, and its context and locale.
        case message(id: Int64, workflow: Workflow, context: JSONValue, locale: String)
    }

    func consolePreview(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        guard let engine = environment.engine, let catalog = environment.catalog else {
            return page(ConsolePage.notFound("This server has no workflows or templates loaded.", session: session), status: .notFound)
        }
        let form = Self.query(request)
        let workflows = engine.workflows.workflows.sorted { $0.id < $1.id }
        let asked = (form["message"] ?? "").trimmingCharacters(in: .whitespaces)
        let data: PreviewData
        switch try await previewData(asked, engine: engine) {
        case .success(let found): data = found
        case .failure(let problem):
            return page(ConsolePage.preview(workflows: workflows, locales: Self.locales(of: nil, in: catalog), chosen: nil, locale: catalog.fallbackLocale,
                                            message: asked, channels: [], problem: problem.message, session: session), status: .notFound)
        }
        // Empty: the message's own workflow and locale (with a message).
        let askedWorkflow = form["workflow"] ?? "", askedLocale = form["locale"] ?? ""
        var chosen = askedWorkflow.isEmpty ? nil : engine.workflows.workflow(id: askedWorkflow)
        if askedWorkflow.isEmpty, case .message(_, let own, _, _) = data { chosen = own }
        let locales = Self.locales(of: chosen?.template, in: catalog)
        var fallback = catalog.fallbackLocale
        if case .message(_, _, _, let locale) = data, locales.contains(locale) { fallback = locale }
        let locale = locales.contains(askedLocale) ? askedLocale : fallback
        var problem = chosen.flatMap { Self.mismatch($0, data) }
        let channels = problem == nil ? chosen.map { Self.previewed($0, locale: locale, data: data, engine: engine, catalog: catalog) } ?? [] : []
        let unknown = !askedWorkflow.isEmpty && chosen == nil
        if unknown { problem = "There is no workflow \(askedWorkflow)." }
        let own = (workflow: !asked.isEmpty && askedWorkflow.isEmpty, locale: !asked.isEmpty && askedLocale.isEmpty)
        return page(ConsolePage.preview(workflows: workflows, locales: locales, chosen: problem == nil ? chosen : nil, locale: locale, message: asked,
                                        channels: channels, own: own, problem: problem, session: session),
                    status: unknown ? .notFound : problem == nil ? .ok : .unprocessableContent)
    }

    /// Why a workflow cannot render a message's data: it runs on another event type.
    static func mismatch(_ workflow: Workflow, _ data: PreviewData) -> String? {
        guard case .message(let id, let own, _, _) = data, own.on != workflow.on else { return nil }
        return "Message \(id) was made from a \(own.on) event; \(workflow.id) runs on \(workflow.on) events: pick a workflow on \(own.on)."
    }

    /// The sample for an empty field; else the message with that id or key, if its content is
    /// still stored and reads.
    func previewData(_ asked: String, engine: WorkflowEngine) async throws -> Result<PreviewData, ConsoleError> {
        guard !asked.isEmpty else { return .success(.sample) }
        let reads = environment.reads
        var id = Int64(asked)
        if id == nil { id = try await reads.messageID(key: asked) }
        guard let id, let message = try await reads.message(byID: id) else {
            return .failure(ConsoleError(.notFound, "There is no message \(asked) (give its id or key, as the timeline shows them)."))
        }
        guard let content = try await reads.messageContent(id: id) else {
            return .failure(ConsoleError(.notFound, "Message \(id)'s content was erased (its customer was forgotten, or retention dropped it)."))
        }
        guard content.context != .null else { return .failure(ConsoleError(.cannotRender, "Message \(id)'s stored context does not read.")) }
        guard let workflow = engine.workflows.workflow(id: message.workflow) else {
            return .failure(ConsoleError(.notFound, "Message \(id) was made by workflow \(message.workflow), which this server no longer has."))
        }
        return .success(.message(id: id, workflow: workflow, context: content.context, locale: content.locale))
    }

    func consolePreviewEmail(_ request: Request) async throws -> Response {
        let form = Self.query(request)
        guard let engine = environment.engine, let catalog = environment.catalog, let workflow = form["workflow"].flatMap(engine.workflows.workflow(id:)),
              case .success(let data) = try await previewData(form["message"] ?? "", engine: engine), Self.mismatch(workflow, data) == nil,
              case .success(let rendered)? = Self.previewed(workflow, locale: form["locale"] ?? catalog.fallbackLocale, data: data, engine: engine,
                                                            catalog: catalog, channels: [.email]).first?.rendered
        else { return Self.emailFrame(nil, missing: Self.noEmailTemplate) }
        return Self.emailFrame(rendered.html, missing: Self.noEmailTemplate)
    }

    static let noEmailTemplate = "no email template for this workflow and locale"

    /// Every channel the workflow's template has files for, rendered from the sample context
    /// or the message's.
    static func previewed(_ workflow: Workflow, locale: String, data: PreviewData, engine: WorkflowEngine, catalog: TemplateCatalog,
                          channels: [Channel] = Channel.allCases) -> [ConsolePage.PreviewedChannel] {
        let context: JSONValue
        switch data {
        case .sample: context = SampleData.context(for: workflow, engine: engine)
        case .message(_, _, let stored, _): context = stored
        }
        return channels.compactMap { channel in
            guard let first = TemplatePart.parts(for: channel).first, catalog.template(workflow.template, first, locale: locale) != nil else { return nil }
            do {
                return ConsolePage.PreviewedChannel(channel: channel,
                                                    rendered: .success(try catalog.render(template: workflow.template, channel: channel, locale: locale,
                                                                                          context: context)))
            } catch {
                return ConsolePage.PreviewedChannel(channel: channel, rendered: .failure(ConsoleError(.cannotRender, "\(error)")))
            }
        }
    }

    /// The locales a template has files in (the fallback first among equals: sorted).
    static func locales(of template: String?, in catalog: TemplateCatalog) -> [String] {
        let all = Set(catalog.templates.keys.filter { template == nil || $0.template == template }.map(\.locale))
        return all.union([catalog.fallbackLocale]).sorted()
    }
}
