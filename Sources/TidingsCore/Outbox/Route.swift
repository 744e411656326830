/// Where a message can go: a channel and the customer's address on it.
public struct Route: Codable, Sendable, Hashable {
    public var channel: Channel
    public var recipient: String

    public init(channel: Channel, recipient: String) {
        self.channel = channel
        self.recipient = recipient
    }
}
