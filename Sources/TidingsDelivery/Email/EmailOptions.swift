import TidingsCore

/// What the configuration adds to every email beyond its content: where replies go
/// (`email.reply_to`), the one-click unsubscribe link (`unsubscribe.*`), and Message-IDs that
/// bounces can be checked against (`receipts.secret`).
public struct EmailOptions: Sendable {
    public var replyTo: ReplyAddress?
    public var unsubscribe: UnsubscribeLinks?
    public var messageIDs: MessageIDSigner?

    public init(replyTo: ReplyAddress? = nil, unsubscribe: UnsubscribeLinks? = nil) {
        self.replyTo = replyTo
        self.unsubscribe = unsubscribe
    }
}
