import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TidingsCore

/// The console's promises and operations pages, and its two actions: retrying a dead message
/// and enabling a channel's disabled endpoints. An action takes an admin login, a confirmation
/// page, and a POST from this site; each is recorded with the login's name (`OperatorAction`)
/// and logged.
extension API {
    static let consoleLogger = Logger(label: "tidings.console")

    /// `?hours=` (1-2160, 48 by default) and `?days=` (1-365, 14) set the charts' windows.
    func consolePromises(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let reads = environment.reads
        let now = environment.clock()
        let form = Self.query(request)
        let hours = form["hours"].flatMap(Int.init).map { min(max($0, 1), 2_160) } ?? 48
        let days = form["days"].flatMap(Int.init).map { min(max($0, 1), 365) } ?? 14
        let samples = try await reads.acknowledgements(since: now.addingTimeInterval(-Double(hours) * 3600), limit: 50_000)
        let recentLimit = 5_000, openLimit = 2_000
        let tickets = try await reads.recentTickets(limit: recentLimit)
        let open = try await reads.openTickets(limit: openLimit)
        var data = ConsolePage.PromisesData(
            now: now, latencies: ResponseReport.latencies(samples, hours: hours, now: now), hours: hours,
            promises: ResponseReport.promises(tickets, days: days, now: now), days: days,
            atRisk: StatusPage.atRisk(open, now: now, within: 7 * 86_400), delivery: try await reads.deliveryRates())
        data.ticketsRead = (tickets.count, recentLimit, open.count, openLimit)
        return page(ConsolePage.promises(data, session: session))
    }

    func consoleOperations(_ session: ConsoleSession) async throws -> Response {
        let reads = environment.reads
        let now = environment.clock()
        let data = ConsolePage.OperationsData(
            now: now, status: try await environment.status.status(now: now),
            dead: try await reads.messages(state: .dead, customerID: nil, subjectID: nil, id: nil, after: nil, limit: 200),
            quarantined: try await reads.heldEvents(kind: .quarantined, limit: 200), disabled: try await reads.disabledEndpoints(),
            actions: try await reads.operatorActions(limit: ConsolePage.listedActions))
        return page(ConsolePage.operations(data, session: session))
    }

    func confirmRetry(_ id: Int64?, _ session: ConsoleSession) async throws -> Response {
        guard let id, let message = try await environment.reads.message(byID: id) else {
            return page(ConsolePage.notFound("There is no such message.", session: session), status: .notFound)
        }
        return page(ConsolePage.confirm(
            title: "Retry message \(id)",
            what: "Put the \(message.state.rawValue) message \(message.key) (\(message.workflow), to customer \(message.customerID)) back in the queue, "
                + "to be sent again on its channels from the first.",
            action: "/console/messages/\(id)/retry", button: "Retry this message", session: session))
    }

    func consoleRetry(_ id: Int64?, _ session: ConsoleSession) async throws -> Response {
        guard let id else { return page(ConsolePage.notFound("There is no such message.", session: session), status: .notFound) }
        let count = try await environment.reads.retry(messageID: id, now: environment.clock(), by: session.actor)
        Self.consoleLogger.notice(count > 0 ? "console: message retried" : "console: retry asked, message not dead", metadata: [
            "login": "\(session.tokenName)", "message": "\(id)",
        ])
        guard count > 0 else {
            return page(ConsolePage.outcome(title: "Not retried", text: "Message \(id) is not dead (or does not exist): nothing was retried.",
                                            refused: true, session: session), status: .conflict)
        }
        return page(ConsolePage.outcome(title: "Retried", text: "Message \(id) is back in the queue.", refused: false, session: session))
    }

    func confirmEnable(_ channel: Channel?, _ session: ConsoleSession) -> Response {
        guard let channel else { return page(ConsolePage.notFound("There is no such channel.", session: session), status: .notFound) }
        return page(ConsolePage.confirm(
            title: "Enable \(channel.rawValue) endpoints",
            what: "Enable every disabled \(channel.rawValue) endpoint again: messages to them are sent once more.",
            action: "/console/endpoints/\(channel.rawValue)/enable", button: "Enable them", session: session))
    }

    func consoleEnable(_ channel: Channel?, _ session: ConsoleSession) async throws -> Response {
        guard let channel else { return page(ConsolePage.notFound("There is no such channel.", session: session), status: .notFound) }
        let count = try await environment.reads.enableEndpoints(channel: channel, now: environment.clock(), by: session.actor)
        Self.consoleLogger.notice("console: endpoints enabled", metadata: [
            "login": "\(session.tokenName)", "channel": "\(channel.rawValue)", "enabled": "\(count)",
        ])
        return page(ConsolePage.outcome(title: "Enabled", text: "\(count) \(channel.rawValue) endpoint(s) enabled.", refused: false, session: session))
    }

    /// Runs an action for an admin login whose POST comes from this site; anything else is
    /// refused with a page that says why (403).
    func administering(_ request: Request, _ session: ConsoleSession, _ action: () async throws -> Response) async throws -> Response {
        guard fromThisSite(request) else {
            return page(ConsolePage.outcome(title: "Refused", text: "The request did not come from this console.", refused: true, session: session),
                        status: .forbidden)
        }
        guard session.admin else {
            Self.consoleLogger.notice("console: action refused to a read-only login", metadata: ["login": "\(session.tokenName)"])
            return page(ConsolePage.outcome(title: "Refused", text: "This needs an admin login; yours (\(session.tokenName)) is read only.",
                                            refused: true, session: session), status: .forbidden)
        }
        return try await action()
    }
}
