import Foundation

/// A Messenger delivery or read notification (the `messages_deliveries` and `messages_reads`
/// webhook fields): everything sent to the person (`sender.id`, their page-scoped id) before
/// the watermark reached them.
public struct MessengerDelivery: Sendable, Hashable {
    public var recipient: String
    public var watermark: Date

    /// The notifications in a webhook body (`{"object": "page", "entry": [{"messaging": [...]}]}`);
    /// anything else in it is not about delivery and is passed over.
    public static func notifications(in body: JSONValue) -> [MessengerDelivery] {
        var found: [MessengerDelivery] = []
        for entry in body["entry"]?.arrayValue ?? [] {
            for event in entry["messaging"]?.arrayValue ?? [] {
                guard let person = event["sender"]?["id"]?.textValue, !person.isEmpty,
                      let mark = (event["delivery"] ?? event["read"])?["watermark"]?.numberValue, mark.isFinite, mark > 0, mark < 1e15
                else { continue }
                found.append(MessengerDelivery(recipient: person, watermark: Date(timeIntervalSince1970: mark / 1000)))
            }
        }
        return found
    }
}
