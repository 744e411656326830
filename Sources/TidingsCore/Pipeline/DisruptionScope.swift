/// Which orders a disruption announcement reaches: those still on their way in its region, with
/// its carrier, or both. Names compare without regard to ASCII case, as SQLite's `NOCASE` does,
/// so the store's query (built from these fields) and a replay in memory choose the same orders.
public struct DisruptionScope: Sendable, Hashable {
    public var region: String?
    public var carrier: String?

    /// Nil when the announcement names neither: the validator insists on one, and one that has
    /// neither affects nothing.
    public init?(_ data: JSONValue) {
        region = data["region"]?.stringValue
        carrier = data["carrier"]?.stringValue
        guard region != nil || carrier != nil else { return nil }
    }

    /// The subject of one message about several of a customer's orders (`customer:<id>`).
    public static func groupSubject(customerID: String) -> String { "customer:\(customerID)" }

    /// The orders a message about several names (its context's `orders`): it counts as a delay
    /// notice to each of them, for the rule that holds back a proactive alert when the customer
    /// was told already (outbox and replay alike), and it is listed with each of them. Empty
    /// for any other message.
    public static func covered(by context: JSONValue) -> [String] {
        guard context["several_orders"]?.boolValue == true else { return [] }
        return (context["orders"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
    }

    /// `covered(by:)` for a context before it is stored.
    public static func covered(by context: MessageContext) -> [String] {
        switch context {
        case .made(let made): made.listedOrders.map(\.id)
        case .document(let value): covered(by: value)
        }
    }

    /// The statuses an affected order can have: on its way, not yet delivered.
    public static let statuses = Order.Status.undelivered

    public func affects(_ order: Order) -> Bool {
        guard Self.statuses.contains(order.status) else { return false }
        if let region, !Self.same(order.shipping?.region, region) { return false }
        if let carrier, !Self.same(order.carrier, carrier) { return false }
        return true
    }

    /// SQLite's `NOCASE`, as the queue's SQL compares.
    static func same(_ value: String?, _ wanted: String) -> Bool {
        value?.equalsIgnoringASCIICase(wanted) ?? false
    }
}
