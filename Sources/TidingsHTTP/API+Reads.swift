import Foundation
import Hummingbird
import TidingsCore
import TidingsStore

extension API {
    /// `GET /v1/orders/{id}`: the order (status, items, tracking, timeline) and the messages about it.
    func order(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .read)
        let id = try context.parameters.require("id")
        guard let order = try await environment.reads.order(id: id) else { throw Problem(.notFound, "Not Found", detail: "no order \(id)") }
        var value = try Self.encode(order)
        value["messages"] = .array(try await messages(about: id))
        return try json(value)
    }

    /// `GET /v1/tickets/{id}`: the ticket, its promised times and timeline, and its messages.
    func ticket(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .read)
        let id = try context.parameters.require("id")
        guard let ticket = try await environment.reads.ticket(id: id) else { throw Problem(.notFound, "Not Found", detail: "no ticket \(id)") }
        var value = try Self.encode(ticket)
        value["reference"] = .string(ticket.reference)
        value["messages"] = .array(try await messages(about: id))
        return try json(value)
    }

    /// `GET /v1/customers/{id}/messages?limit=&after=`: every message to a customer, oldest first, in pages.
    func customerMessages(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .read)
        let id = try context.parameters.require("id")
        let limit = try Self.limit(request)
        let after = try Self.integer(request, "after")
        let messages = try await environment.reads.messages(state: nil, customerID: id, subjectID: nil, id: nil, after: after, limit: limit)
        var value: JSONValue = ["customer_id": .string(id), "messages": .array(messages.map(Self.message))]
        value["next_after"] = messages.count == limit ? messages.last.map { .number(Double($0.id)) } : .null
        return try json(value)
    }

    /// `GET /v1/deliveries?state=&limit=&after=`: the outbox, oldest first.
    func deliveries(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .read)
        var state: MessageState?
        if let raw = request.uri.queryParameters.get("state") {
            guard let parsed = MessageState(rawValue: raw) else {
                throw Problem(.badRequest, "Bad Request", detail: "state must be one of \(MessageState.allCases.map(\.rawValue).joined(separator: ", "))",
                              issues: [Problem.Issue(field: "state", message: "unknown state \"\(raw)\"")])
            }
            state = parsed
        }
        let limit = try Self.limit(request)
        let messages = try await environment.reads.messages(state: state, customerID: nil, subjectID: nil, id: nil,
                                                             after: try Self.integer(request, "after"), limit: limit)
        var value: JSONValue = ["deliveries": .array(messages.map(Self.message))]
        value["next_after"] = messages.count == limit ? messages.last.map { .number(Double($0.id)) } : .null
        return try json(value)
    }

    /// `POST /v1/deliveries/{id}/retry` (admin): a dead message gets another go.
    func retry(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try tokens.authorize(request, .admin)
        let raw = try context.parameters.require("id")
        guard let id = Int64(raw) else { throw Problem(.notFound, "Not Found", detail: "no message \(raw)") }
        guard let message = try await environment.reads.message(byID: id) else { throw Problem(.notFound, "Not Found", detail: "no message \(id)") }
        guard try await environment.reads.retry(messageID: id, now: environment.clock(), by: OperatorAction.Actor(via: .api, name: name)) == 1 else {
            throw Problem(.conflict, "Conflict", detail: "message \(id) is \(message.state.rawValue); only dead messages can be retried")
        }
        return try json(["id": .number(Double(id)), "state": "pending"], status: .accepted)
    }

    /// The messages about an order or ticket (also those about several orders that name it).
    func messages(about subject: String) async throws -> [JSONValue] {
        try await environment.reads.messages(state: nil, customerID: nil, subjectID: subject, id: nil, after: nil, limit: 500).map(Self.message)
    }

    static func limit(_ request: Request) throws -> Int {
        let limit = try integer(request, "limit") ?? 50
        guard (1...500).contains(limit) else {
            throw Problem(.badRequest, "Bad Request", detail: "limit must be from 1 to 500",
                          issues: [Problem.Issue(field: "limit", message: "must be from 1 to 500")])
        }
        return Int(limit)
    }

    static func integer(_ request: Request, _ name: String) throws -> Int64? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int64(raw), value >= 0 else {
            throw Problem(.badRequest, "Bad Request", detail: "\(name) must be a whole number",
                          issues: [Problem.Issue(field: name, message: "must be a whole number, got \"\(raw)\"")])
        }
        return value
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func encode(_ model: some Encodable) throws -> JSONValue {
        try JSONValue.parse(try encoder.encode(model))
    }

    static func message(_ message: MessageSummary) -> JSONValue {
        [
            "id": .number(Double(message.id)), "key": .string(message.key), "workflow": .string(message.workflow),
            "customer_id": .string(message.customerID), "subject_id": message.subjectID.map(JSONValue.string) ?? .null,
            "channel": message.channel.map(JSONValue.string) ?? .null, "recipient": message.recipient.map(JSONValue.string) ?? .null,
            "state": .string(message.state.rawValue), "attempts": .number(Double(message.attempts)),
            "created_at": .string(Timestamp.format(message.createdAt)),
            "sent_at": message.sentAt.map { .string(Timestamp.format($0)) } ?? .null,
            "last_error": message.lastError.map(JSONValue.string) ?? .null,
        ]
    }
}
