import Foundation

/// What kind of value a `data` field must hold.
public enum FieldKind: Sendable {
    case string, bool, object, stringList
    /// A string that names a customer or an order: it becomes a key in the store, as the
    /// subject does, so it may not hold control characters.
    case id
    /// An amount of money: 0 to `FieldKind.maximumMoney`, so templates can always format it.
    case money
    /// A quantity of an item: 0 to `FieldKind.maximumQuantity`.
    case quantity
    case timestamp
    /// A calendar date (`2026-11-30`) or a full timestamp.
    case dateOrTimestamp
    case email, phone, url
    case oneOf([String])
    /// An array of objects, each checked by the rules; `atLeast` items.
    case list(of: [FieldRule], atLeast: Int = 0)
    /// An object whose fields are checked by the rules.
    case fields([FieldRule])
}

extension FieldKind {
    /// Plain text or an id: the kinds for which a required value must not be empty.
    var isText: Bool {
        switch self {
        case .string, .id: true
        default: false
        }
    }

    /// A trillion: more than any order, and far below where cents stop fitting in 64 bits
    /// even multiplied by the largest quantity.
    public static let maximumMoney = 1e12
    public static let maximumQuantity = 1e6
}

/// A rule for one field of an event's `data`.
public struct FieldRule: Sendable {
    public var name: String
    public var kind: FieldKind
    public var required: Bool

    public init(_ name: String, _ kind: FieldKind, required: Bool = false) {
        self.name = name
        self.kind = kind
        self.required = required
    }
}

/// The shape of `data` for one event type.
public struct EventSchema: Sendable {
    public var entity: String
    public var fields: [FieldRule]
    public var needsSubject = true
    /// At least one of these must be present (a disruption names a region or a carrier).
    public var anyOf: [String] = []

    public func check(_ data: JSONValue) -> [FieldIssue] {
        var issues = Self.check(data, rules: fields, prefix: "data")
        if !anyOf.isEmpty, !anyOf.contains(where: { data[$0] != nil && data[$0] != .null }) {
            issues.append(FieldIssue(field: "data", message: "needs at least one of \(anyOf.joined(separator: ", "))"))
        }
        return issues
    }

    static func check(_ object: JSONValue, rules: [FieldRule], prefix: String) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        for rule in rules {
            guard let value = object[rule.name], value != .null else {
                if rule.required { issues.append(FieldIssue(field: "\(prefix).\(rule.name)", message: "is required")) }
                continue
            }
            // The path is spelled out only for a problem: this runs for every field of every event.
            issues.append(contentsOf: check(value, kind: rule.kind, path: "\(prefix).\(rule.name)"))
            // A required name or id must name something: an empty customer_id waits for nobody.
            if rule.required, rule.kind.isText, value.stringValue?.isEmpty == true {
                issues.append(FieldIssue(field: "\(prefix).\(rule.name)", message: "must not be empty"))
            }
        }
        return issues
    }

    static func check(_ value: JSONValue, kind: FieldKind, path: @autoclosure () -> String) -> [FieldIssue] {
        func fail(_ message: String) -> [FieldIssue] { [FieldIssue(field: path(), message: message)] }
        switch kind {
        case .string:
            return value.stringValue == nil ? fail("must be a string, got \(value.kindName)") : []
        case .id:
            guard let text = value.stringValue else { return fail("must be a string, got \(value.kindName)") }
            return EventValidator.hasControl(text)
                ? fail("must not contain control characters (such as NUL, a line break or ESC): it names a customer or an order") : []
        case .money:
            guard let n = value.numberValue else { return fail("must be a number, got \(value.kindName)") }
            return n >= 0 && n <= FieldKind.maximumMoney ? [] : fail("must be an amount from 0 to 1000000000000")
        case .quantity:
            guard let n = value.numberValue else { return fail("must be a number, got \(value.kindName)") }
            return n >= 0 && n <= FieldKind.maximumQuantity ? [] : fail("must be a quantity from 0 to 1000000")
        case .bool:
            return value.boolValue == nil ? fail("must be true or false, got \(value.kindName)") : []
        case .object:
            return value.objectValue == nil ? fail("must be an object, got \(value.kindName)") : []
        case .stringList:
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                return fail("must be an array of strings")
            }
            return []
        case .timestamp:
            guard let text = value.stringValue, Timestamp.parse(text) != nil else {
                return fail("must be an RFC 3339 timestamp such as 2026-11-23T09:30:00Z")
            }
            return []
        case .dateOrTimestamp:
            guard let text = value.stringValue, Timestamp.parse(text) != nil || Timestamp.parse(text + "T00:00:00Z") != nil else {
                return fail("must be a date (2026-11-30) or an RFC 3339 timestamp")
            }
            return []
        case .email:
            guard let text = value.stringValue, EmailAddress.isValid(text) else {
                return fail("must be an email address such as ann@example.com")
            }
            return []
        case .phone:
            guard let text = value.stringValue, isE164(text) else {
                return fail("must be an E.164 phone number such as +447700900123")
            }
            return []
        case .url:
            guard let text = value.stringValue, let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            else {
                return fail("must be an http or https URL")
            }
            return []
        case .oneOf(let allowed):
            guard let text = value.stringValue, allowed.contains(text) else {
                return fail("must be one of \(allowed.joined(separator: ", "))")
            }
            return []
        case .fields(let rules):
            guard value.objectValue != nil else { return fail("must be an object, got \(value.kindName)") }
            return check(value, rules: rules, prefix: path())
        case .list(let rules, let atLeast):
            guard let items = value.arrayValue else { return fail("must be an array, got \(value.kindName)") }
            guard items.count >= atLeast else { return fail("must hold at least \(atLeast) item\(atLeast == 1 ? "" : "s")") }
            var issues: [FieldIssue] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path())[\(index)]"
                guard item.objectValue != nil else {
                    issues.append(FieldIssue(field: itemPath, message: "must be an object"))
                    continue
                }
                issues.append(contentsOf: check(item, rules: rules, prefix: itemPath))
            }
            return issues
        }
    }

    static func isE164(_ text: String) -> Bool {
        guard text.first == "+" else { return false }
        let digits = text.utf8.dropFirst()
        return (8...15).contains(digits.count) && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } && digits.first != UInt8(ascii: "0")
    }
}

/// The event types Tidings understands and the shape of their `data` (DESIGN.md's table).
public enum EventCatalogue {
    static let preferences: [FieldRule] = [
        FieldRule("channels", .stringList), FieldRule("consent", .object), FieldRule("quiet_hours", .object),
        FieldRule("opt_out", .stringList),
    ]
    static let customerFields: [FieldRule] = [
        FieldRule("name", .string), FieldRule("given_name", .string), FieldRule("family_name", .string), FieldRule("greeting_name", .string),
        FieldRule("email", .email), FieldRule("phone", .phone),
        FieldRule("messenger_id", .string), FieldRule("locale", .string), FieldRule("timezone", .string),
        FieldRule("preferences", .fields(preferences)),
    ]
    static let note: [FieldRule] = [FieldRule("by", .string), FieldRule("note", .string)]
    /// A delivery receipt (`Receipt`), recorded by Tidings' receipt endpoints; the subject is the message key.
    static let receipt = EventSchema(entity: "message", fields: [
        FieldRule("customer_id", .id, required: true), FieldRule("channel", .oneOf(Channel.allCases.map(\.rawValue)), required: true),
        FieldRule("provider", .string), FieldRule("kind", .oneOf(["hard", "soft"])), FieldRule("address", .string), FieldRule("reason", .string),
    ])

    public static let schemas: [String: EventSchema] = [
        "customer.registered": EventSchema(entity: "customer", fields: customerFields),
        "customer.updated": EventSchema(entity: "customer", fields: customerFields),
        "order.placed": EventSchema(entity: "order", fields: [
            FieldRule("customer_id", .id, required: true),
            FieldRule("items", .list(of: [
                FieldRule("sku", .string, required: true), FieldRule("name", .string, required: true),
                FieldRule("quantity", .quantity, required: true), FieldRule("unit_price", .money, required: true),
            ], atLeast: 1), required: true),
            FieldRule("total", .money, required: true), FieldRule("currency", .string, required: true),
            FieldRule("dispatch_by", .timestamp), FieldRule("deliver_by", .timestamp),
            FieldRule("ship_by", .timestamp), FieldRule("shipping", .object),
        ]),
        "order.item_out_of_stock": EventSchema(entity: "order", fields: [
            FieldRule("sku", .string, required: true), FieldRule("name", .string),
            FieldRule("expected_restock", .dateOrTimestamp), FieldRule("options", .stringList),
        ]),
        "order.shipped": EventSchema(entity: "order", fields: [
            FieldRule("carrier", .string), FieldRule("tracking_number", .string), FieldRule("tracking_url", .url),
            FieldRule("estimated_delivery", .dateOrTimestamp),
        ]),
        "order.out_for_delivery": EventSchema(entity: "order", fields: [FieldRule("at", .timestamp)]),
        "order.delivered": EventSchema(entity: "order", fields: [FieldRule("at", .timestamp)]),
        "order.delayed": EventSchema(entity: "order", fields: [
            FieldRule("reason", .string), FieldRule("new_estimate", .dateOrTimestamp),
        ]),
        "order.cancelled": EventSchema(entity: "order", fields: [FieldRule("reason", .string), FieldRule("amount", .money)]),
        "order.refunded": EventSchema(entity: "order", fields: [FieldRule("reason", .string), FieldRule("amount", .money)]),
        "order.return_requested": EventSchema(entity: "order", fields: [
            FieldRule("rma", .string, required: true), FieldRule("reason", .string),
            FieldRule("items", .list(of: [FieldRule("sku", .string, required: true), FieldRule("quantity", .quantity)])),
        ]),
        "shipping.disruption_announced": EventSchema(
            entity: "region", fields: [
                FieldRule("region", .string), FieldRule("carrier", .string), FieldRule("reason", .string),
                FieldRule("new_estimate", .dateOrTimestamp),
            ], needsSubject: false, anyOf: ["region", "carrier"]),
        "ticket.opened": EventSchema(entity: "ticket", fields: [
            FieldRule("customer_id", .id, required: true),
            FieldRule("kind", .oneOf(["complaint", "query", "return", "feedback"]), required: true),
            FieldRule("summary", .string), FieldRule("order_id", .id), FieldRule("channel", .string),
        ]),
        "ticket.replied": EventSchema(entity: "ticket", fields: note),
        "ticket.escalated": EventSchema(entity: "ticket", fields: note),
        "ticket.resolved": EventSchema(entity: "ticket", fields: note),
        "ticket.reopened": EventSchema(entity: "ticket", fields: note),
        "message.delivered": receipt, "message.bounced": receipt, "message.complained": receipt, "message.failed": receipt,
        Suppression.liftedType: EventSchema(entity: "customer", fields: [
            FieldRule("channel", .oneOf(Channel.customerChannels.map(\.rawValue)), required: true), FieldRule("address", .string, required: true),
        ]),
        "order.dispatch_overdue": EventSchema(entity: "order", fields: []),
        "order.delivery_overdue": EventSchema(entity: "order", fields: []),
        "ticket.response_overdue": EventSchema(entity: "ticket", fields: []),
        "ticket.resolution_due_soon": EventSchema(entity: "ticket", fields: []),
        "ticket.resolution_overdue": EventSchema(entity: "ticket", fields: []),
    ]

    public static func schema(for type: String) -> EventSchema? { schemas[type] }
}
