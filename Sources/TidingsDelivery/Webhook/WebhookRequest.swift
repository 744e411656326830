import Foundation
import TidingsCore

/// Builds the HTTP request for each webhook preset.
enum WebhookRequest {
    static func build(_ message: OutgoingMessage, settings: WebhookTransport.Settings) throws(JSONValue.EncodingError) -> CurlRequest {
        var headers: [String] = []
        var body: [UInt8]
        var url = settings.url
        switch settings.preset {
        case .generic:
            // webhook-id is the idempotency key, the same on every attempt; the timestamp and
            // signature are the attempt's own.
            let timestamp = Int(message.date.timeIntervalSince1970)
            headers = ["Content-Type: application/json", "webhook-id: \(message.key)", "webhook-timestamp: \(timestamp)"]
            if let token = settings.token, !token.isEmpty { headers.append("Authorization: Bearer \(token)") }
            body = JSONValue.encodedObject(strings: genericPayload(message))
            if !settings.signingSecrets.isEmpty {
                headers.append("webhook-signature: " + WebhookSignature.sign(id: message.key, timestamp: timestamp, body: body,
                                                                              secrets: settings.signingSecrets))
            }
        case .twilio:
            headers = ["Content-Type: application/x-www-form-urlencoded", "I-Twilio-Idempotency-Token: \(message.key)"]
            var fields = [("To", message.recipient), ("From", settings.from ?? ""), ("Body", message.content.text)]
            if let callback = settings.statusCallback { fields.append(("StatusCallback", "\(callback)?key=\(FormEncoding.percentEncode(message.key))")) }
            body = Array(formEncode(fields).utf8)
        case .chat:
            headers = ["Content-Type: application/json"]
            if let token = settings.token, !token.isEmpty { headers.append("Authorization: Bearer \(token)") }
            body = try JSONValue.object(["text": .string(message.content.text)]).encodedBytes()
        case .messenger:
            headers = ["Content-Type: application/json"]
            if let token = settings.token, !token.isEmpty {
                url += (url.contains("?") ? "&" : "?") + "access_token=" + FormEncoding.percentEncode(token)
            }
            let payload: JSONValue = [
                "recipient": ["id": .string(message.recipient)],
                "messaging_type": "MESSAGE_TAG",
                "tag": message.category == "order_status" ? "POST_PURCHASE_UPDATE" : "ACCOUNT_UPDATE",
                "message": ["text": .string(message.content.text)],
            ]
            body = try payload.encodedBytes()
        }
        let credentials = settings.preset == .twilio || settings.username != nil
        return CurlRequest(url: url, payload: .http(method: "POST", headers: headers, body: body),
                           username: credentials ? settings.username : nil, password: credentials ? settings.password : nil,
                           connectTimeoutMilliseconds: 5000, timeoutMilliseconds: settings.timeoutSeconds * 1000)
    }

    /// The generic preset's JSON members, all strings, listed in key order so the body is
    /// written straight to bytes (`JSONValue.encodedObject(strings:)`), without a tree.
    static func genericPayload(_ message: OutgoingMessage) -> [(key: String, value: String)] {
        var members: [(key: String, value: String)] = [
            ("category", message.category), ("channel", message.channel.rawValue), ("customer_id", message.customerID), ("id", message.key),
        ]
        members.reserveCapacity(11)
        if let title = message.content.subject { members.append(("subject", title)) }
        if let subject = message.subjectID { members.append(("subject_id", subject)) }
        members += [
            ("text", message.content.text), ("timestamp", Timestamp.format(message.date)), ("to", message.recipient),
            ("type", "tidings.message"), ("workflow", message.workflow),
        ]
        return members
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(FormEncoding.percentEncode($0.0))=\(FormEncoding.percentEncode($0.1))" }.joined(separator: "&")
    }

}
