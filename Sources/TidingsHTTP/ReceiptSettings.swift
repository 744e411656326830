import TidingsCore

/// Who may report delivery receipts, and how each is checked (`receipts.*` in the configuration).
public struct ReceiptSettings: Sendable {
    /// `receipts.url`: the public address of `/v1/receipts` as providers reach it. Twilio signs
    /// the URL it calls, so its callbacks are checked against this one.
    public var publicURL: String?
    /// `receipts.secret`: Standard Webhooks secrets for `POST /v1/receipts` (any one verifies).
    public var secrets: [WebhookSignature.Secret] = []
    /// The same secrets tag every email's Message-ID: a bounce must return a tag that verifies.
    public var messageIDs: MessageIDSigner?
    /// The Twilio account's auth token: `receipts.twilio_auth_token`, else `sms.webhook.password`
    /// of the twilio preset (with an API key as the username, that password is the key's secret,
    /// which does not sign callbacks: set the former).
    public var twilioAuthToken: String?
    /// `messenger.webhook.app_secret` signs Messenger webhooks; `messenger.webhook.verify_token`
    /// answers Meta's subscription check.
    public var messengerAppSecret: String?
    public var messengerVerifyToken: String?
    /// How far a signed receipt's timestamp may be from now.
    public var tolerance: Double = 300

    public init() {}
}
