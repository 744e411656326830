import TidingsCore

/// The transport of a channel the shop does not use (`<channel>.transport: off`). Nothing is
/// routed to it; a message queued for it before it was turned off fails over to its next
/// channel at once, or dies with this reason.
public struct OffTransport: Transport {
    let channel: Channel

    public init(channel: Channel) {
        self.channel = channel
    }

    public func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
        .permanent(reason: "the \(channel.rawValue) channel is off (\(channel.rawValue).transport: off)")
    }

    public func close() {}
}
