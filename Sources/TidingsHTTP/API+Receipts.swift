import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TidingsCore
import TidingsStore

extension API {
    var receiptSettings: ReceiptSettings { environment.settings.receipts }

    /// `POST /v1/receipts`: a receipt signed per Standard Webhooks with `receipts.secret`,
    /// `{"key", "status", "kind"?, "reason"?, "channel"?, "address"?}`. The webhook-id makes a
    /// resent receipt count once.
    func postReceipt(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard !receiptSettings.secrets.isEmpty else { throw Self.notConfigured("receipts.secret") }
        let body = try await collect(request)
        let headers = request.headers
        guard let id = headers[.webhookID], let timestamp = headers[.webhookTimestamp],
              let signature = headers[.webhookSignature],
              WebhookSignature.verify(id: id, timestamp: timestamp, signatures: signature, body: body, secrets: receiptSettings.secrets,
                                      now: environment.clock(), tolerance: receiptSettings.tolerance)
        else { throw refused(context, "generic", "the webhook-signature does not verify with receipts.secret, or the timestamp is stale") }
        guard let payload = try? JSONValue.parse(body), let key = payload["key"]?.stringValue,
              let status = payload["status"]?.stringValue.flatMap(Receipt.Status.init(rawValue:))
        else {
            throw Problem(.badRequest, "Bad Request", detail: "send {\"key\": <message key>, \"status\": delivered|bounced|complained|failed, \"kind\": hard|soft, \"reason\": …}")
        }
        let kind = try payload["kind"].map { value throws(Problem) -> Receipt.Kind in
            guard let kind = value.stringValue.flatMap(Receipt.Kind.init(rawValue:)) else {
                throw Problem(.badRequest, "Bad Request", detail: "kind must be hard or soft")
            }
            return kind
        }
        let target = try await self.target(key, context, provider: "generic")
        // About the message's route now, unless the provider names another (an earlier one).
        var channel = target.channel
        if let named = payload["channel"]?.stringValue {
            guard let known = Channel(customerChoice: named) else {
                throw Problem(.badRequest, "Bad Request", detail: "channel must be email, sms or messenger")
            }
            channel = known
        }
        let address = payload["address"]?.stringValue ?? (channel == target.channel ? target.recipient : nil)
        let receipt = Receipt(key: key, status: status, kind: kind, channel: channel, address: address,
                              customerID: target.customerID, reason: payload["reason"]?.stringValue, provider: "generic")
        return try await record([receipt.event(id: "generic-\(id)", at: environment.clock())])
    }

    /// `POST /v1/receipts/bounces`: an RFC 3464 bounce or RFC 5965 complaint, as the mail
    /// system wrote it, forwarded by the shop's inbound mail (a bearer token with ingest).
    /// Other mail is answered 200 with `recorded: false` and the reason.
    func postBounce(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .ingest)
        let body = try await collect(request)
        guard !body.isEmpty else { throw Problem(.badRequest, "Bad Request", detail: "the body is empty: send the bounce or complaint as the mail system wrote it") }
        let report: BounceReport
        do { report = try BounceReport.parse(body) } catch {
            // A bounce mailbox also receives out-of-office replies and spam: taken, not an error
            // (a relay would otherwise return them to their sender), and said why.
            context.logger.notice("mail at the bounce endpoint is not a report", metadata: ["reason": "\(error.description)"])
            return try json(["recorded": false, "reason": .string("not a bounce or complaint: \(error.description)")])
        }
        // With receipts.secret, Message-IDs carry a tag only this Tidings can make.
        var key = report.key
        if let signer = receiptSettings.messageIDs {
            guard let verified = signer.messageKey(from: report.key) else {
                throw refused(context, "dsn", "the report's Message-ID was not made by this Tidings: its tag does not verify with receipts.secret")
            }
            key = verified
        }
        let target = try await self.target(key, context, provider: "dsn")
        // A message that went on to another channel is matched by the customer's email: the
        // report is still about that address (and may close it).
        let emailed = target.channel == .email ? target.recipient : try await environment.reads.customer(id: target.customerID)?.email ?? ""
        guard let receipt = report.receipt(for: (target.customerID, emailed), key: key) else {
            return try json(["recorded": false, "reason": """
                the report says the mail system is still trying or passed it on, or it is about another address than the message's: \
                nothing to record
                """])
        }
        return try await record([receipt.event(id: report.receiptID(for: receipt), at: environment.clock())])
    }

    /// `POST /v1/receipts/twilio?key=…`: Twilio's status callback, the URL Tidings gave as
    /// `StatusCallback`, checked with `X-Twilio-Signature` and the auth token.
    func postTwilio(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let token = receiptSettings.twilioAuthToken, let base = receiptSettings.publicURL else {
            throw Self.notConfigured("receipts.url, and receipts.twilio_auth_token or sms.webhook.password with the twilio preset")
        }
        let body = try await collect(request)
        let url = base + "/twilio" + (request.uri.query.map { "?" + $0 } ?? "")
        guard let pairs = FormEncoding.pairs(body), let signature = request.headers[.twilioSignature],
              TwilioSignature.verify(signature, url: url, parameters: pairs, authToken: token)
        else { throw refused(context, "twilio", "the X-Twilio-Signature does not verify for \(url)") }
        guard let key = request.uri.queryParameters.get("key") else {
            throw Problem(.badRequest, "Bad Request", detail: "the callback URL has no key: Tidings adds ?key= to the StatusCallback it sends")
        }
        let target = try await self.target(key, context, provider: "twilio")
        guard let receipt = TwilioStatus.receipt(pairs, key: key, customerID: target.customerID) else {
            return try json(["recorded": false, "reason": "not a final status"])
        }
        let sid = pairs.first { $0.0 == "MessageSid" || $0.0 == "SmsSid" }?.1 ?? Self.digest(body)
        let status = pairs.first { $0.0 == "MessageStatus" || $0.0 == "SmsStatus" }?.1 ?? ""
        return try await record([receipt.event(id: "twilio-\(sid)-\(status)", at: environment.clock())])
    }

    /// `POST /v1/receipts/messenger`: Messenger's delivery and read notifications, checked with
    /// `X-Hub-Signature-256` and the app secret.
    func postMessenger(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let secret = receiptSettings.messengerAppSecret else { throw Self.notConfigured("messenger.webhook.app_secret") }
        let body = try await collect(request)
        guard let signature = request.headers[.hubSignature], HubSignature.verify(signature, body: body, appSecret: secret)
        else { throw refused(context, "messenger", "the X-Hub-Signature-256 does not verify with messenger.webhook.app_secret") }
        guard let payload = try? JSONValue.parse(body) else { throw Problem(.badRequest, "Bad Request", detail: "the body is not JSON") }
        var events: [CloudEvent] = []
        for notice in MessengerDelivery.notifications(in: payload) {
            for target in try await environment.reads.messengerSent(to: notice.recipient, before: notice.watermark, limit: 1_000) {
                let receipt = Receipt(key: target.key, status: .delivered, channel: .messenger, address: target.recipient,
                                      customerID: target.customerID, reason: nil, provider: "messenger")
                events.append(receipt.event(id: "messenger-\(target.key)", at: environment.clock()))
            }
        }
        guard !events.isEmpty else { return try json(["recorded": false, "reason": "no message sent before the watermark awaits a receipt"]) }
        return try await record(events)
    }

    /// `GET /v1/receipts/messenger`: Meta's subscription check echoes `hub.challenge` when
    /// `hub.verify_token` is `messenger.webhook.verify_token` (compared as digests: equal
    /// lengths, so the comparison's time says nothing about the token).
    func verifyMessenger(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        guard let expected = receiptSettings.messengerVerifyToken else { throw Self.notConfigured("messenger.webhook.verify_token") }
        guard query.get("hub.mode") == "subscribe", let token = query.get("hub.verify_token"),
              Data(SHA256.hash(data: Data(token.utf8))) == Data(SHA256.hash(data: Data(expected.utf8))),
              let challenge = query.get("hub.challenge")
        else { throw Problem(.forbidden, "Forbidden", detail: "hub.verify_token does not match messenger.webhook.verify_token") }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: challenge)))
    }

    /// The message a receipt names; an unknown key is refused and logged, never recorded.
    func target(_ key: String, _ context: BasicRequestContext, provider: String) async throws -> ReceiptTarget {
        guard let target = try await environment.reads.receiptTarget(key: key) else {
            context.logger.notice("receipt refused: no such message", metadata: ["provider": "\(provider)", "key": "\(key.prefix(120))"])
            throw Problem(.notFound, "Not Found", detail: "no message has the key \(key.prefix(120)): a receipt must name a message Tidings sent")
        }
        return target
    }

    func refused(_ context: BasicRequestContext, _ provider: String, _ why: String) -> Problem {
        context.logger.warning("receipt refused: forged or unsigned", metadata: ["provider": "\(provider)"])
        return Problem(.forbidden, "Forbidden", detail: why)
    }

    func record(_ events: [CloudEvent]) async throws -> Response {
        let result = try await environment.commit.append(events)
        // A forgotten customer's receipts are not kept: there is nobody left to tell.
        if result.refusal != nil { return try json(["recorded": false, "reason": "the customer was forgotten"]) }
        guard result.stagedElsewhere == 0 else { throw Self.stagedElsewhere(result) }
        return try json(["recorded": .bool(result.appended > 0), "events": .number(Double(events.count))])
    }

    static func notConfigured(_ what: String) -> Problem {
        Problem(.notFound, "Not Found", detail: "this receipt endpoint is not configured here (\(what))")
    }

    static func digest(_ body: [UInt8]) -> String {
        SHA256.hash(data: body).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

extension HTTPField.Name {
    // Valid field names, spelled out: the initialiser fails only for an invalid one.
    static let webhookID = Self("webhook-id")!
    static let webhookTimestamp = Self("webhook-timestamp")!
    static let webhookSignature = Self("webhook-signature")!
    static let twilioSignature = Self("x-twilio-signature")!
    static let hubSignature = Self("x-hub-signature-256")!
}
