import Foundation
import TidingsCore

extension ConsolePage {
    struct OperationsData {
        var now: Date
        var status: StoreStatus
        var dead: [MessageSummary]
        var quarantined: [HeldEvent]
        var disabled: [DisabledEndpoint]
        var actions: [OperatorAction] = []
    }

    /// How many of the latest operator actions the page lists.
    static let listedActions = 50

    /// The outbox by state, dead messages, quarantined events and disabled endpoints. Retrying
    /// and enabling take an admin login and a confirmation, and are recorded (from the API and
    /// the command line too) and listed here.
    static func operations(_ data: OperationsData, session: ConsoleSession) -> String {
        let status = data.status
        var body = """
            <h1>Operations</h1>
            <p>As of \(e(time(data.now))). Pipeline lag: <strong>\(status.lag)</strong> events; quarantined events:
            <strong>\(status.quarantined)</strong>; dead messages: <strong>\(status.count(.dead))</strong>.</p>
            <h2>Outbox by state</h2>

            """
        let states = status.outbox.keys.sorted { $0.rawValue < $1.rawValue }
        body += table(["State", "Channel", "Messages"], states.flatMap { state in
            (status.outbox[state] ?? [:]).sorted { $0.key < $1.key }.map { [e(state.rawValue), e($0.key), "\($0.value)"] }
        }, empty: "The outbox is empty.")
        body += "<h2 id=\"dead\">Dead messages</h2>\n"
        body += table(["Message", "Workflow", "Customer", "Why", "Action"], data.dead.map { message in
            ["<code>\(e(message.key))</code>", e(message.workflow), link(customer: message.customerID), e(message.lastError ?? ""),
             "<a href=\"/console/messages/\(message.id)/retry\">Retry…</a>"]
        }, empty: "None.")
        body += "<h2 id=\"quarantined\">Quarantined events</h2>\n"
        body += table(["Position", "Type", "Subject", "Why"], data.quarantined.map { held in
            [e(held.key.description), e(held.type ?? ""), e(held.subject ?? ""), e(held.reason)]
        }, empty: "None.")
        if !data.quarantined.isEmpty { body += "<p>Once the cause is fixed: <code>tidings events retry POSITION</code>.</p>\n" }
        body += "<h2 id=\"endpoints\">Disabled endpoints</h2>\n"
        body += table(["Channel", "Endpoint", "Since", "Why", "Action"], data.disabled.map { endpoint in
            [e(endpoint.channel.rawValue), e(endpoint.target), e(time(endpoint.since)), e(endpoint.reason),
             "<a href=\"/console/endpoints/\(e(endpoint.channel.rawValue))/enable\">Enable…</a>"]
        }, empty: "None.")
        body += "<h2 id=\"actions\">Actions by operators</h2>\n<p>The latest \(listedActions), newest first, from the console, the API and the command line.</p>\n"
        body += table(["When", "Who", "Did", "To", "Changed"], data.actions.map { action in
            [e(time(action.at)), e("\(action.actor.name) (\(action.actor.via.rawValue))"), e(action.kind.rawValue), e(action.target), "\(action.affected)"]
        }, id: "actions-table", empty: "None yet.")
        return layout(title: "Operations", session: session, body)
    }

    /// The page that asks before an action is taken: what it will do, and one button.
    static func confirm(title: String, what: String, action: String, button: String, session: ConsoleSession) -> String {
        let note = session.admin ? "" : "<p class=\"problem\" role=\"alert\">This needs an admin login; yours is read only.</p>\n"
        return layout(title: title, session: session, """
            <h1>\(e(title))</h1>
            <p>\(e(what))</p>
            \(note)<form method="post" action="\(e(action))"><button type="submit">\(e(button))</button>
            <a href="/console/operations">Cancel</a></form>
            """)
    }

    /// What an action did, or why it was refused.
    static func outcome(title: String, text: String, refused: Bool, session: ConsoleSession) -> String {
        layout(title: title, session: session, """
            <h1>\(e(title))</h1>
            <p\(refused ? " class=\"problem\" role=\"alert\"" : " role=\"status\"")>\(e(text))</p>
            <p><a href="/console/operations">Back to operations</a></p>
            """)
    }
}
