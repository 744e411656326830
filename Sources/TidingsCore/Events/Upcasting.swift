/// Older shapes of an event type's data, brought up to the current shape whenever an event is
/// validated or read back from the log. The log keeps the bytes as they came; only what the
/// pipeline sees changes. An event names the shape of its data with the `dataversion` extension
/// attribute (a whole number; 1 when absent), so producers can move to a new shape when they
/// are ready and old events replay as they always did.
public enum Upcasting {
    /// The CloudEvents extension attribute that carries the version.
    public static let attribute = "dataversion"

    /// Data of `type` at version `from`, made into version `from + 1`. Pure and total: it never
    /// fails, and leaves alone what it does not recognise.
    public struct Step: Sendable {
        public let type: String
        public let from: Int
        public let upcast: @Sendable (JSONObject) -> JSONObject
        /// The fields it renames (old name: new name): an error about one names what was sent.
        public let renamed: [String: String]

        public init(type: String, from: Int, renamed: [String: String] = [:],
                    upcast: @escaping @Sendable (JSONObject) -> JSONObject) {
            self.type = type
            self.from = from
            self.renamed = renamed
            self.upcast = upcast
        }

        /// A field renamed: the old name is read as the new one when the new one is absent.
        public static func rename(_ type: String, from: Int, _ old: String, to new: String) -> Step {
            Step(type: type, from: from, renamed: [old: new]) { data in
                var data = data
                if data[new] == nil, let value = data.removeValue(forKey: old) { data[new] = value }
                return data
            }
        }
    }

    /// Every step, by type and version. The worked example: version 2 of `order.placed` calls
    /// the date by which the order must leave the warehouse `dispatch_by` (after the deadline it
    /// sets, `order.dispatch_overdue`); version 1 called it `ship_by`. Both are accepted.
    public static let steps: [Step] = [
        .rename("order.placed", from: 1, "ship_by", to: "dispatch_by"),
    ]

    /// The version this build reads `type`'s data at: 1, plus one per step.
    public static func currentVersion(of type: String) -> Int {
        1 + steps.filter { $0.type == type }.count
    }

    /// The version an event says its data has: nil when the attribute is not a whole number
    /// from 1 up to what this build knows for the type.
    public static func version(of event: JSONObject, type: String) -> Int? {
        let value = event[attribute]
        let number: Double?
        switch value {
        case nil: return 1
        case .number(let n)?: number = n
        // As text too: HTTP binary mode carries it in a `ce-dataversion` header.
        case .string(let text)?: number = Int(text).flatMap { String($0) == text ? Double($0) : nil }
        default: number = nil
        }
        guard let number, number.rounded() == number, number >= 1, number <= Double(currentVersion(of: type)) else { return nil }
        return Int(number)
    }

    /// An issue found in the upcast data, named as the producer sent it: `data.dispatch_by`
    /// becomes `data.ship_by` when the event said `ship_by`.
    public static func sentName(of field: String, in original: JSONValue, type: String, from version: Int) -> String {
        for step in steps where step.type == type && step.from >= version {
            for (old, new) in step.renamed where original[old] != nil && original[new] == nil {
                if field == "data.\(new)" { return "data.\(old)" }
                if field.hasPrefix("data.\(new).") || field.hasPrefix("data.\(new)[") {
                    return "data.\(old)" + field.dropFirst("data.\(new)".count)
                }
            }
        }
        return field
    }

    /// `data` of `type` at `version`, brought up to the current version.
    public static func upcast(_ data: JSONValue, type: String, from version: Int) -> JSONValue {
        guard case .object(var fields) = data else { return data }
        for step in steps where step.type == type && step.from >= version {
            fields = step.upcast(fields)
        }
        return .object(fields)
    }
}
