import Foundation
import Hummingbird
import NIOCore
import TidingsCore

extension API {
    /// `/v1/unsubscribe?c=&k=&t=`, the link in `List-Unsubscribe` (RFC 8058). No bearer token:
    /// the link's signature is the authority. GET shows a page with a button (a link scanner
    /// that follows it unsubscribes nobody); POST, from a mail client's one-click or that
    /// button, records the opt-out as a `customer.unsubscribed` event at once (it adds to the
    /// customer's opt-outs as the pipeline applies it).
    func unsubscribe(_ request: Request, confirmed: Bool) async throws -> Response {
        guard let links = environment.settings.unsubscribe else {
            throw Problem(.notFound, "Not Found", detail: "one-click unsubscribe is not configured here (unsubscribe.url, unsubscribe.secret)")
        }
        let query = request.uri.queryParameters
        guard let customer = query.get("c"), let category = query.get("k"), let token = query.get("t"), !customer.isEmpty else {
            throw Problem(.badRequest, "Bad Request", detail: "the link is incomplete (it needs c, k and t): use the link from the email as it is")
        }
        guard UnsubscribeLinks.applies(to: category), links.verify(customerID: customer, category: category, token: token) else {
            throw Problem(.forbidden, "Forbidden", detail: "this is not an unsubscribe link Tidings made: its signature does not match")
        }
        let what = Self.categoryName(category)
        guard confirmed else {
            return page("Unsubscribe", """
                <p>Stop receiving \(HTML.escape(what))? Order confirmations, shipping notices and replies to your requests still come.</p>
                <form method="post"><button type="submit">Unsubscribe</button></form>
                """)
        }
        // Once is enough: a link clicked again (or replayed) writes nothing more.
        if try await environment.reads.customer(id: customer)?.preferences.optOut.contains(category) == true {
            return page("Unsubscribed", "<p>You will not receive \(HTML.escape(what)) from us.</p>")
        }
        let event = CloudEvent(
            id: "unsubscribe-\(UUID().uuidString.lowercased())", source: UnsubscribeLinks.eventSource, type: UnsubscribeLinks.eventType,
            subject: customer, time: environment.clock(), data: ["category": .string(category)])
        let result = try await environment.commit.append([event])
        // A forgotten customer gets nothing any more: there is nothing to opt out of.
        guard result.refusal == nil else { return page("Unsubscribed", "<p>You will not receive \(HTML.escape(what)) from us.</p>") }
        guard result.stagedElsewhere == 0 else { throw Self.stagedElsewhere(result) }
        return page("Unsubscribed", "<p>Done: you will no longer receive \(HTML.escape(what)).</p>")
    }

    static func categoryName(_ category: String) -> String {
        switch Workflow.Category(rawValue: category) {
        case .followUp: return "follow-up messages (such as asking how we did)"
        default: return "these messages"
        }
    }

    func page(_ title: String, _ body: String) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(HTML.escape(title))</title></head><body><h1>\(HTML.escape(title))</h1>\(body)</body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
