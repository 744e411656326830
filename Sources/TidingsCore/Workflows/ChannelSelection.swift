/// Picks the channels a message may use, in order: the workflow's list with `preferred`
/// expanded to the customer's own order, keeping only channels the customer has an address
/// for, whose address is not suppressed (`Suppression`) and, for SMS and messenger, that they
/// consented to.
public enum ChannelSelection {
    public struct Outcome: Sendable, Hashable {
        /// Usable channels, best first; the first is tried, the rest are fallbacks.
        public var channels: [Channel]
        /// Why channels were passed over, for the message history.
        public var passedOver: [String]

        /// The usable channels as routes to the customer's addresses, best first.
        public func routes(for customer: Customer) -> [Route] {
            channels.compactMap { channel in customer.address(on: channel).map { Route(channel: channel, recipient: $0) } }
        }
    }

    public static func select(_ choices: [Workflow.ChannelChoice], for customer: Customer, off: Set<Channel> = []) -> Outcome {
        var candidates: [Channel] = []
        for choice in choices {
            switch choice {
            case .preferred:
                candidates.append(contentsOf: customer.preferences.channels.isEmpty ? [.email] : customer.preferences.channels)
            case .fixed(let channel):
                candidates.append(channel)
            }
        }
        // A suppressed address (it bounced, or the customer complained) sends the message on to
        // the customer's other consented channels, in their order, whatever the workflow listed.
        if candidates.contains(where: { customer.suppression(on: $0) != nil }) {
            candidates += customer.preferences.channels + Channel.customerChannels
        }
        var usable: [Channel] = []
        var passedOver: [String] = []
        for channel in candidates where !usable.contains(channel) {
            if off.contains(channel) {
                passedOver.append("\(channel.rawValue): channel off")
            } else if customer.address(on: channel)?.isEmpty ?? true {
                passedOver.append("\(channel.rawValue): no address")
            } else if let suppression = customer.suppression(on: channel) {
                passedOver.append(suppression.note)
            } else if channel.needsConsent && !customer.preferences.consent.contains(channel) {
                passedOver.append("\(channel.rawValue): no consent")
            } else {
                usable.append(channel)
            }
        }
        return Outcome(channels: usable, passedOver: Array(Set(passedOver)).sorted())
    }

    /// Where a message on a channel whose address was just suppressed can go instead, in order.
    public static func routes(around channel: Channel, for customer: Customer, off: Set<Channel> = []) -> [Route] {
        select([.fixed(channel)], for: customer, off: off).routes(for: customer)
    }
}
