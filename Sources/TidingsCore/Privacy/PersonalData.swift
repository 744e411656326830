import Foundation

/// Which fields of which events are a customer's personal data, and whose. The store keeps
/// them sealed with that customer's key (`Sealing`); `tidings forget` deletes the key, and the
/// log, append-only, keeps only what nobody can read.
public enum PersonalData {
    /// Recorded by `tidings forget`, never sent by a producer: from here on the customer's
    /// models, contexts and addresses are gone, and their new events are refused.
    public static let forgottenType = "customer.forgotten"
    /// The source of the events Tidings records itself about erasure.
    public static let source = "urn:tidings:forget"

    /// A forgotten customer's messages that had not gone out never will: their address is gone.
    /// One in flight (`sending`) is skipped too, so that no claim given back or taken over from
    /// a dead process sends it empty; if its send was already under way, the dispatcher's
    /// record says `sent` after all.
    public static let unsentStates: [MessageState] = [.pending, .retrying, .parked, .sending]
    /// States a message comes back to from the dispatcher that would send it again.
    public static let retriedStates: [MessageState] = [.pending, .retrying]
    /// Why, as the message's last error says.
    public static let unsentReason = "not sent: the customer was forgotten (tidings forget)"
    /// What stands in a forgotten customer's messages for the address and the context.
    public static let erasedRecipient = "(forgotten)"

    static let customerFields = ["name", "given_name", "family_name", "greeting_name", "email", "phone", "messenger_id"]

    /// Where an event type keeps personal data: fields of `data`, and objects in `data` whose
    /// every field is personal but those named (a shipping address, whatever a producer puts
    /// in it, but for the region and carrier that disruptions are matched on).
    public struct Rule: Sendable {
        public var fields: [String]
        public var objects: [String: Set<String>]

        init(fields: [String] = [], objects: [String: Set<String>] = [:]) {
            self.fields = fields
            self.objects = objects
        }
    }

    /// The personal fields per event type. Free text a customer wrote (a complaint's summary)
    /// counts: it may hold anything about them.
    public static let rules: [String: Rule] = [
        "customer.registered": Rule(fields: customerFields),
        "customer.updated": Rule(fields: customerFields),
        "order.placed": Rule(objects: ["shipping": ["region", "carrier"]]),
        "ticket.opened": Rule(fields: ["summary"]),
        // A bounce's diagnostic often repeats the address.
        "message.delivered": Rule(fields: ["address", "reason"]), "message.bounced": Rule(fields: ["address", "reason"]),
        "message.complained": Rule(fields: ["address", "reason"]), "message.failed": Rule(fields: ["address", "reason"]),
        Suppression.liftedType: Rule(fields: ["address"]),
    ]

    /// The customer whose key seals the event's personal fields; nil when it carries none.
    public static func owner(of event: CloudEvent) -> String? {
        guard rules[event.type] != nil else { return nil }
        let owner = event.type.hasPrefix("customer.") ? event.subject : event.data["customer_id"]?.stringValue
        return owner.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// What an event is about, as `kind:id` (`customer:c-1`, `order:o-1`): an event about any
    /// of them is refused once its customer was forgotten.
    public static func entities(of event: CloudEvent) -> [String] {
        var entities: [String] = []
        if let subject = event.subject, event.type.hasPrefix("customer.") {
            entities.append("customer:\(subject)")
        } else if let subject = event.subject, let entity = EventCatalogue.schema(for: event.type)?.entity,
                  ["customer", "order", "ticket"].contains(entity) {
            entities.append("\(entity):\(subject)")
        }
        if let customer = event.data["customer_id"]?.stringValue { entities.append("customer:\(customer)") }
        if let order = event.data["order_id"]?.stringValue { entities.append("order:\(order)") }
        return entities
    }

    /// The event `tidings forget` records.
    public static func forgotten(customerID: String, id: String, at time: Date) -> CloudEvent {
        CloudEvent(id: id, source: source, type: forgottenType, subject: customerID, time: time, data: .object([:]))
    }
}

extension PersonalData {
    /// What an outbox row's `claimed_from` says of a claim a forget took back: the dispatcher
    /// that holds it drops it unsent.
    public static let withdrawnMark = "withdrawn"

    /// Why a request was refused whole: one of its events is about `entity` (`order:o-1`), which
    /// belonged to the forgotten `customerID`. Every backend says it the same way.
    public static func refusal(eventID: String, entity: String, customerID: String) -> String {
        let what = entity.hasPrefix("customer:") ? "customer \(customerID)" : "\(entity.replacingOccurrences(of: ":", with: " ")) of customer \(customerID)"
        return """
            the event \(eventID) is about \(what), who was forgotten (tidings forget): their events are refused, \
            and none of this request's events was stored; send the others without it
            """
    }
}
