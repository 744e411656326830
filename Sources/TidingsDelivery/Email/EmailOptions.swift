import TidingsCore

/// What the configuration adds to every email beyond its content: where replies go
/// (`email.reply_to`) and the one-click unsubscribe link (`unsubscribe.*`).
public struct EmailOptions: Sendable {
    public var replyTo: ReplyAddress?
    public var unsubscribe: UnsubscribeLinks?

    public init(replyTo: ReplyAddress? = nil, unsubscribe: UnsubscribeLinks? = nil) {
        self.replyTo = replyTo
        self.unsubscribe = unsubscribe
    }
}
