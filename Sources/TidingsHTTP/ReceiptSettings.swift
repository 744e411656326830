import TidingsCore

/// Who may report delivery receipts, and how each is checked (`receipts.*` in the configuration).
public struct ReceiptSettings: Sendable {
    /// `receipts.url`: the public address of `/v1/receipts` as providers reach it. Twilio signs
    /// the URL it calls, so its callbacks are checked against this one.
    public var publicURL: String?
    /// `receipts.secret`: Standard Webhooks secrets for `POST /v1/receipts` (any one verifies).
    public var secrets: [WebhookSignature.Secret] = []
    /// The Twilio auth token (`sms.password` of the twilio preset).
    public var twilioAuthToken: String?
    /// `messenger.app_secret` signs Messenger webhooks; `messenger.verify_token` answers Meta's
    /// subscription check.
    public var messengerAppSecret: String?
    public var messengerVerifyToken: String?
    /// How far a signed receipt's timestamp may be from now.
    public var tolerance: Double = 300

    public init() {}
}
