import Foundation
import TidingsCore

extension ConsolePage {
    /// One channel of a previewed workflow: its rendering, or why it does not render.
    struct PreviewedChannel {
        var channel: Channel
        var rendered: Result<RenderedMessage, ConsoleError>
    }

    /// Pick a workflow and a locale; see every channel it has templates for, rendered from a
    /// sample event of its type (the one `tidings check` renders) or from a real message's
    /// data, nothing stored or sent.
    /// `own` keeps the form's empty choices selected ("the message's own") when they were the
    /// ones asked for, so the form can be sent again for another message.
    static func preview(workflows: [Workflow], locales: [String], chosen: Workflow?, locale: String, message: String, channels: [PreviewedChannel],
                        own: (workflow: Bool, locale: Bool) = (false, false), problem: String? = nil, session: ConsoleSession) -> String {
        var body = """
            <h1>Workflow and template preview</h1>
            <form method="get" action="/console/preview" class="login">
            <label for="workflow">Workflow</label><select id="workflow" name="workflow">
            <option value=""\(own.workflow ? " selected" : "")>the message's own (with a message)</option>

            """
        for workflow in workflows {
            let selected = !own.workflow && workflow.id == chosen?.id ? " selected" : ""
            body += "<option value=\"\(e(workflow.id))\"\(selected)>\(e(workflow.id)) (on \(e(workflow.on)))</option>\n"
        }
        body += "</select>\n<label for=\"locale\">Locale</label><select id=\"locale\" name=\"locale\">\n"
        body += "<option value=\"\"\(own.locale ? " selected" : "")>the message's own, or the default</option>\n"
        for one in locales {
            body += "<option value=\"\(e(one))\"\(!own.locale && one == locale ? " selected" : "")>\(e(one))</option>\n"
        }
        body += "</select>\n<label for=\"message\">Data of a real message (its id or key; empty: a sample event)</label>"
        body += "<input id=\"message\" name=\"message\" value=\"\(e(message))\">\n"
        body += "<button type=\"submit\">Preview</button></form>\n"
        if let problem { body += "<p class=\"problem\">\(e(problem))</p>\n" }
        guard let chosen else { return layout(title: "Preview", session: session, body) }
        body += "<h2>\(e(chosen.id)) in \(e(locale))</h2>\n<p>Template <code>\(e(chosen.template))</code>, "
        body += "to \(e(chosen.to == .staff ? "staff" : "the customer")), category \(e(chosen.category.rawValue)), "
        body += "channels \(e(chosen.channels.map(\.name).joined(separator: ", "))). "
        body += message.isEmpty ? "Rendered from a sample \(e(chosen.on)) event.</p>\n"
            : "Rendered from the data of message \(e(message)), as its \(e(chosen.on)) event left them when it was made.</p>\n"
        if channels.isEmpty { body += "<p class=\"problem\">This template has no files for any channel.</p>\n" }
        for previewed in channels {
            body += "<h3>\(e(previewed.channel.rawValue))</h3>\n"
            switch previewed.rendered {
            case .success(let rendered):
                if let subject = rendered.subject { body += "<div>Subject: <strong>\(e(subject))</strong></div>\n" }
                if rendered.html != nil {
                    let query = "workflow=\(e(FormEncoding.percentEncode(chosen.id)))&amp;locale=\(e(FormEncoding.percentEncode(locale)))"
                        + "&amp;message=\(e(FormEncoding.percentEncode(message)))"
                    body += "<iframe sandbox src=\"/console/preview/email?\(query)\" title=\"The email \(e(chosen.id)) in \(e(locale))\"></iframe>\n"
                    body += "<details><summary>Plain text</summary><pre>\(e(rendered.text))</pre></details>\n"
                } else {
                    body += "<pre>\(e(rendered.text))</pre>\n"
                }
            case .failure(let error):
                body += "<p class=\"problem\">It does not render: \(e(error.message))</p>\n"
            }
        }
        return layout(title: "Preview \(chosen.id)", session: session, body)
    }
}
