import Foundation
import Hummingbird
import TidingsCore
import TidingsStore

extension API {
    /// `GET /v1/suppressions?channel=`: the addresses closed by a hard bounce or a complaint.
    func suppressions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .read)
        var channel: Channel?
        if let name = request.uri.queryParameters.get("channel") {
            guard let known = Channel(customerChoice: name) else {
                throw Problem(.badRequest, "Bad Request", detail: "channel must be email, sms or messenger")
            }
            channel = known
        }
        let list = try await environment.reads.suppressions(channel: channel, customerID: nil).map(Self.json)
        return try json(["suppressions": .array(list)])
    }

    /// `DELETE /v1/suppressions/{channel}/{address}` (admin): the address may be used again.
    /// Recorded as a `customer.suppression_lifted` event per customer who had it.
    func liftSuppression(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let who = try tokens.authorize(request, .admin)
        guard let name = context.parameters.get("channel"), let channel = Channel(customerChoice: name),
              let address = context.parameters.get("address")?.removingPercentEncoding
        else { throw Problem(.badRequest, "Bad Request", detail: "name the channel (email, sms or messenger) and the address") }
        let events = SuppressionLift.events(for: try await environment.reads.suppressions(channel: channel, customerID: nil), address: address,
                                            at: environment.clock())
        guard !events.isEmpty else {
            throw Problem(.notFound, "Not Found", detail: "\(address) is not suppressed on \(channel.rawValue)")
        }
        let result = try await environment.commit.append(events)
        guard result.stagedElsewhere == 0 else { throw Self.stagedElsewhere(result) }
        context.logger.notice("suppression lifted", metadata: ["channel": "\(channel.rawValue)", "customers": "\(events.count)", "by": "\(who)"])
        return try json(["lifted": .number(Double(events.count))])
    }

    static func json(_ entry: SuppressedAddress) -> JSONValue {
        var fields: JSONObject = [
            "customer_id": .string(entry.customerID), "channel": .string(entry.suppression.channel.rawValue),
            "address": .string(entry.suppression.address), "reason": .string(entry.suppression.reason.rawValue),
            "since": .string(Timestamp.format(entry.suppression.since)),
        ]
        if let detail = entry.suppression.detail { fields["detail"] = .string(detail) }
        if let key = entry.suppression.key { fields["message_key"] = .string(key) }
        return .object(fields)
    }
}
