import Foundation
import GRDB
import TidingsCore


extension Store {
    public func receiptTarget(key: String) throws -> ReceiptTarget? {
        try read("looking up message \(key)") { db in
            try Row.fetchOne(db, sql: "SELECT key, customer_id, channel, recipient, state FROM messages WHERE key = ?", arguments: [key])
                .flatMap(Self.target)
        }
    }

    /// Messenger messages to a person accepted by the Send API at or before `watermark` and not
    /// yet known as delivered (a delivery notification covers everything before its watermark).
    public func messengerSent(to recipient: String, before watermark: Date, limit: Int = 1_000) throws -> [ReceiptTarget] {
        try read("looking up messenger messages") { db in
            try Row.fetchAll(db, sql: Self.messengerSentSQL, arguments: [recipient, watermark.timeIntervalSince1970, limit]).compactMap(Self.target)
        }
    }

    /// Along `messages_sent_by_messenger`, whose condition it states in the same words.
    static let messengerSentSQL = """
        SELECT key, customer_id, channel, recipient, state FROM messages
        WHERE recipient = ? AND state = \(MessageState.sent.sqlLiteral) AND channel = '\(Channel.messenger.rawValue)' AND sent_at <= ?
        ORDER BY id LIMIT ?
        """

    static func target(_ row: Row) -> ReceiptTarget? {
        guard let channel = (row["channel"] as String?).flatMap(Channel.init(rawValue:)),
              let state = MessageState(rawValue: row["state"]) else { return nil }
        return ReceiptTarget(key: row["key"], customerID: row["customer_id"], channel: channel, recipient: row["recipient"] ?? "", state: state)
    }

    /// Every suppressed address, by customer (one the customer has since replaced included: it
    /// is still closed, should they go back to it).
    public func suppressions(channel: Channel? = nil, customerID: String? = nil) throws -> [SuppressedAddress] {
        try read("listing suppressed addresses") { db in
            var list: [SuppressedAddress] = []
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, doc FROM customers WHERE suppressed > 0 AND (?1 IS NULL OR id = ?1) ORDER BY id
                """, arguments: [customerID])
            for row in rows {
                let customer = try Customer(document: row["doc"] as Data)
                for suppression in customer.suppressed where channel == nil || suppression.channel == channel {
                    list.append(SuppressedAddress(customerID: customer.id, suppression: suppression))
                }
            }
            return list
        }
    }

    /// Delivery outcomes per channel and workflow, for the status page: messages still only
    /// accepted, and the messages each kind of receipt spoke about (a bounced message that went
    /// on to another channel counts as bounced on the first).
    public func deliveryRates() throws -> [DeliveryRate] {
        try read("counting delivery outcomes") { db in
            let sent = try Row.fetchAll(db, sql: """
                SELECT channel, workflow, COUNT(*) AS n FROM messages WHERE state = '\(MessageState.sent.rawValue)' GROUP BY 1, 2
                """).map { DeliveryRate.Count(channel: $0["channel"] ?? "-", workflow: $0["workflow"], status: nil, messages: $0["n"]) }
            let heard = try Row.fetchAll(db, sql: """
                SELECT r.channel, m.workflow, r.status, COUNT(DISTINCT r.message_id) AS n
                FROM message_receipts r JOIN messages m ON m.id = r.message_id GROUP BY 1, 2, 3
                """).map { DeliveryRate.Count(channel: $0["channel"], workflow: $0["workflow"], status: $0["status"], messages: $0["n"]) }
            return DeliveryRate.tally(sent + heard)
        }
    }
}
