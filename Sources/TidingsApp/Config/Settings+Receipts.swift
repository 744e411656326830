import Foundation
import TidingsCore
import TidingsDelivery
import TidingsHTTP

extension Settings {
    /// `receipts.url` (the public address of /v1/receipts, for Twilio's status callbacks),
    /// `receipts.secret` (Standard Webhooks secrets for signed receipts), and Messenger's
    /// `messenger.webhook.app_secret` and `messenger.webhook.verify_token`. The Twilio auth
    /// token is the sms webhook's password.
    func receiptSettings(channels: [Channel: ChannelConfig]) throws -> ReceiptSettings {
        var settings = ReceiptSettings()
        if let url = text("receipts.url") {
            guard let parsed = URL(string: url), let host = parsed.host, parsed.query == nil, !url.hasSuffix("/"),
                  parsed.scheme == "https" || (parsed.scheme == "http" && (host == "127.0.0.1" || host == "localhost"))
            else {
                throw ConfigError(.invalidValue, """
                    receipts.url must be the https address of /v1/receipts as providers reach it, without a query or a trailing slash \
                    (such as https://shop.example/tidings/v1/receipts); got "\(url)"
                    """)
            }
            settings.publicURL = url
        }
        settings.secrets = try signingSecrets("receipts.secret")
        settings.messageIDs = MessageIDSigner(secrets: settings.secrets)
        // The account's auth token signs Twilio's callbacks. It is the sms webhook's password
        // unless that password belongs to an API key: then `receipts.twilio_auth_token`.
        settings.twilioAuthToken = try secret("receipts.twilio_auth_token")
        if settings.twilioAuthToken == nil, case .webhook(let sms)? = channels[.sms]?.route, sms.preset == .twilio {
            settings.twilioAuthToken = sms.password
        }
        settings.messengerAppSecret = try secret("messenger.webhook.app_secret")
        settings.messengerVerifyToken = try secret("messenger.webhook.verify_token")
        return settings
    }
}
