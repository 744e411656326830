import Foundation

/// Accepted messages and what their receipts said, per channel and workflow.
public struct DeliveryRate: Sendable, Hashable {
    public var channel: String
    public var workflow: String
    /// Accepted by the server and not heard of since.
    public var sent: Int
    public var delivered: Int
    public var bounced: Int
    public var complained: Int

    public init(channel: String, workflow: String, sent: Int, delivered: Int, bounced: Int, complained: Int) {
        self.channel = channel
        self.workflow = workflow
        self.sent = sent
        self.delivered = delivered
        self.bounced = bounced
        self.complained = complained
    }

    /// Delivered of those a receipt has spoken about; nil before any receipt.
    public var rate: Double? {
        let heard = delivered + bounced
        return heard == 0 ? nil : Double(delivered) / Double(heard)
    }
}

extension DeliveryRate {
    /// Messages counted by channel, workflow and what a receipt said (nil: still only sent).
    public struct Count: Sendable {
        public var channel: String
        public var workflow: String
        public var status: String?
        public var messages: Int

        public init(channel: String, workflow: String, status: String?, messages: Int) {
            self.channel = channel
            self.workflow = workflow
            self.status = status
            self.messages = messages
        }
    }

    /// The rates per channel and workflow, from both backends' counts: a bounce and a failure
    /// count as bounced.
    public static func tally(_ counts: [Count]) -> [DeliveryRate] {
        var rates: [String: DeliveryRate] = [:]
        for count in counts {
            var rate = rates["\(count.channel)/\(count.workflow)"]
                ?? DeliveryRate(channel: count.channel, workflow: count.workflow, sent: 0, delivered: 0, bounced: 0, complained: 0)
            switch count.status.map(Receipt.Status.init(rawValue:)) {
            case nil: rate.sent = count.messages
            case .delivered?: rate.delivered += count.messages
            case .bounced?, .failed?: rate.bounced += count.messages
            case .complained?: rate.complained += count.messages
            case .some(nil): break
            }
            rates["\(count.channel)/\(count.workflow)"] = rate
        }
        return rates.values.sorted { ($0.channel, $0.workflow) < ($1.channel, $1.workflow) }
    }
}
