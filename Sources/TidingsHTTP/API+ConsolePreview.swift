import Foundation
import Hummingbird
import TidingsCore

/// The console's workflow and template preview: a workflow's templates rendered from the
/// sample event `tidings check` uses, in any locale the templates have.
extension API {
    func consolePreview(_ request: Request, _ session: ConsoleSession) -> Response {
        guard let engine = environment.engine, let catalog = environment.catalog else {
            return page(ConsolePage.notFound("This server has no workflows or templates loaded.", session: session), status: .notFound)
        }
        let form = Self.formFields(request.uri.query ?? "")
        let workflows = engine.workflows.workflows.sorted { $0.id < $1.id }
        let chosen = form["workflow"].flatMap(engine.workflows.workflow(id:))
        let locales = Self.locales(of: chosen?.template, in: catalog)
        let locale = form["locale"].flatMap { locales.contains($0) ? $0 : nil } ?? catalog.fallbackLocale
        let channels = chosen.map { Self.previewed($0, locale: locale, engine: engine, catalog: catalog) } ?? []
        let status: HTTPResponse.Status = form["workflow"] != nil && chosen == nil ? .notFound : .ok
        return page(ConsolePage.preview(workflows: workflows, locales: locales, chosen: chosen, locale: locale, channels: channels, session: session),
                    status: status)
    }

    func consolePreviewEmail(_ request: Request) -> Response {
        let form = Self.formFields(request.uri.query ?? "")
        guard let engine = environment.engine, let catalog = environment.catalog, let workflow = form["workflow"].flatMap(engine.workflows.workflow(id:)),
              case .success(let rendered)? = Self.previewed(workflow, locale: form["locale"] ?? catalog.fallbackLocale, engine: engine, catalog: catalog,
                                                            channels: [.email]).first?.rendered, let html = rendered.html
        else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "no email template for this workflow and locale")))
        }
        var headers = Self.consoleHeaders(policy: ConsolePage.emailPolicy)
        headers[Self.frameOptions] = "SAMEORIGIN"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// Every channel the workflow's template has files for, rendered from the sample context.
    static func previewed(_ workflow: Workflow, locale: String, engine: WorkflowEngine, catalog: TemplateCatalog,
                          channels: [Channel] = Channel.allCases) -> [ConsolePage.PreviewedChannel] {
        let context = SampleData.context(for: workflow, engine: engine)
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
