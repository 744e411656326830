import Foundation
import Testing
@testable import TidingsCore
@testable import TidingsDelivery

@Suite("Webhook requests and outcomes")
struct WebhookTests {
    let message = OutgoingMessage(
        key: "order_shipped.0001", channel: .sms, workflow: "order_shipped", category: "order_status", customerID: "c-1",
        subjectID: "o-1", recipient: "+447700900123", recipientName: "Ann", content: RenderedMessage(subject: nil, text: "Shipped & on its way", html: nil),
        date: Date(timeIntervalSince1970: 1_795_000_000))

    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func http(_ request: CurlRequest) -> (headers: [String], body: String) {
        guard case .http(_, let headers, let body) = request.payload else { return ([], "") }
        return (headers, String(decoding: body, as: UTF8.self))
    }

    @Test func twilioIsFormEncodedWithBasicAuth() throws {
        let settings = WebhookTransport.Settings(preset: .twilio, url: "https://api.twilio.test/Messages.json", from: "+15005550006",
                                                 username: "AC123", password: "secret")
        let request = try WebhookRequest.build(message, settings: settings)
        let (headers, body) = http(request)
        #expect(body == "To=%2B447700900123&From=%2B15005550006&Body=Shipped%20%26%20on%20its%20way")
        #expect(headers.contains("Content-Type: application/x-www-form-urlencoded"))
        #expect(request.username == "AC123")
        #expect(request.password == "secret")
    }

    @Test func messengerUsesTheSendAPIShape() throws {
        let settings = WebhookTransport.Settings(preset: .messenger, url: "https://graph.test/v19.0/me/messages", token: "tok/+en")
        let request = try WebhookRequest.build(message, settings: settings)
        #expect(request.url == "https://graph.test/v19.0/me/messages?access_token=tok%2F%2Ben")
        let body = try JSONValue.parse(Data(http(request).body.utf8))
        #expect(body.value(atPath: "recipient.id") == "+447700900123")
        #expect(body.value(atPath: "message.text") == "Shipped & on its way")
        #expect(body["tag"] == "POST_PURCHASE_UPDATE")
    }

    @Test func genericCarriesTheIdempotencyKey() throws {
        let request = try WebhookRequest.build(message, settings: WebhookTransport.Settings(preset: .generic, url: "http://127.0.0.1/hook"))
        let (headers, body) = http(request)
        #expect(headers.contains("webhook-id: order_shipped.0001"))
        #expect(headers.contains("webhook-timestamp: 1795000000"))
        #expect(try JSONValue.parse(Data(body.utf8))["id"] == "order_shipped.0001")
    }

    /// The body is written from members in a fixed order: the bytes must be the canonical
    /// sorted-key JSON, with and without the optional members, and with text to escape.
    @Test func genericBodyIsTheCanonicalJSON() throws {
        var titled = message
        titled.content = RenderedMessage(subject: "Über \"this\"", text: "Line\nbreak / \u{1}", html: nil)
        var bare = message
        bare.subjectID = nil
        for sent in [message, titled, bare] {
            let members = WebhookRequest.genericPayload(sent)
            let canonical = try JSONValue.object(JSONObject(Dictionary(uniqueKeysWithValues: members.map { ($0.key, JSONValue.string($0.value)) })))
                .encodedBytes()
            #expect(JSONValue.encodedObject(strings: members) == canonical)
            #expect(JSONValue.encodedObject(strings: members.reversed()) == canonical)
            #expect(JSONValue.encodedObject(strings: Array(members.dropFirst()) + [members[0]]) == canonical)
            let request = try WebhookRequest.build(sent, settings: WebhookTransport.Settings(preset: .generic, url: "http://127.0.0.1/hook"))
            #expect(Array(http(request).body.utf8) == canonical)
        }
        // Keys in byte order that Swift calls the same are folded as the tree folds them.
        let spellings: [(key: String, value: String)] = [("e\u{301}", "1"), ("\u{E9}", "2")]
        #expect(JSONValue.encodedObject(strings: spellings) == (try JSONValue.encodedObject(spellings.map { ($0.key, JSONValue.string($0.value)) })))
    }

    func response(curl: Int = 0, status: Int, headers: [String] = []) -> CurlResponse {
        CurlResponse(curlCode: curl, errorMessage: curl == 0 ? "" : "Couldn't connect", responseCode: status, headers: headers, body: [])
    }

    @Test func classifiesHTTPOutcomes() {
        #expect(WebhookTransport.classify(response(status: 204), now: now).label == "sent")
        #expect(WebhookTransport.classify(response(status: 503, headers: ["Retry-After: 30"]), now: now) == .transient(reason: "HTTP 503", retryAfter: 30))
        #expect(WebhookTransport.classify(response(status: 429), now: now).label == "transient")
        #expect(WebhookTransport.classify(response(status: 302, headers: ["Location: /elsewhere"]), now: now).label == "permanent")
        #expect(WebhookTransport.classify(response(status: 400), now: now).label == "permanent")
        #expect(WebhookTransport.classify(response(curl: 7, status: 0), now: now).label == "transient")
    }

    /// A refusal's header lines are kept, from its status line on (its `Retry-After` decides
    /// the retry); a success's are not, since nothing reads them; SMTP's replies always are.
    @Test func keepsTheHeaderLinesOfAnythingButAnHTTPSuccess() throws {
        let transfer = try #require(CurlTransfer())
        func feed(_ lines: String...) {
            for line in lines { Array(line.utf8).withUnsafeBytes { transfer.receiveHeader($0) } }
        }
        feed("HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 503 Service Unavailable\r\n", "Retry-After: 30\r\n", "\r\n")
        #expect(transfer.responseHeaders == ["HTTP/1.1 503 Service Unavailable", "Retry-After: 30", ""])
        transfer.reset()
        feed("HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 204 No Content\r\n", "Server: nginx\r\n", "\r\n")
        #expect(transfer.responseHeaders.isEmpty)
        transfer.reset()
        feed("220 smtp.example ESMTP\r\n", "250-PIPELINING\r\n")
        #expect(transfer.responseHeaders == ["220 smtp.example ESMTP", "250-PIPELINING"])
        func success(_ line: String) -> Bool { Array(line.utf8).withUnsafeBytes { CurlTransfer.isSuccess(statusLine: $0) } }
        for line in ["HTTP/1.1 200 OK\r\n", "HTTP/2 201\r\n", "HTTP/1.1 299"] { #expect(success(line), "\(line)") }
        for line in ["HTTP/1.1 302 Found\r\n", "HTTP/1.1 20", "HTTP/1.1 2x0 OK", "HTTP/1.1", "HTTP/1.1 100 Continue"] {
            #expect(!success(line), "\(line)")
        }
    }

    @Test func goneDisablesTheEndpointAndRetryAfterMayBeADate() {
        #expect(WebhookTransport.classify(response(status: 410), now: now).label == "gone")
        let date = response(status: 503, headers: ["Retry-After: Wed, 18 Nov 2026 11:08:40 GMT"])  // now + 120 s
        #expect(WebhookTransport.classify(date, now: now) == .transient(reason: "HTTP 503", retryAfter: 120))
        #expect(WebhookTransport.classify(response(status: 503, headers: ["Retry-After: soon"]), now: now)
            == .transient(reason: "HTTP 503", retryAfter: nil))
    }

    /// The Standard Webhooks reference vector, and one entry per secret for rotation.
    @Test func genericWebhooksAreSignedPerStandardWebhooks() throws {
        let secret = try #require(WebhookSignature.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                              body: Data(#"{"test": 2432232314}"#.utf8), secrets: [secret])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSignature.Secret("whsec_not base64") == nil)
        #expect(WebhookSignature.Secret("whsec_c2hvcnQ=") == nil)  // too short to be a key
        let next = try #require(WebhookSignature.Secret("whsec_" + Data(repeating: 7, count: 32).base64EncodedString()))
        let settings = WebhookTransport.Settings(preset: .generic, url: "http://127.0.0.1/hook", signingSecrets: [secret, next])
        let header = try #require(http(WebhookRequest.build(message, settings: settings)).headers.first { $0.hasPrefix("webhook-signature: ") })
        let entries = header.dropFirst("webhook-signature: ".count).split(separator: " ")
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { $0.hasPrefix("v1,") })
        #expect("\(secret)" == "whsec_…")
        // The key is prepared once per secret and copied per message: signing again, and
        // signing other messages in between, must give the same signature each time.
        #expect(WebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                      body: Data(#"{"test": 2432232314}"#.utf8), secrets: [secret]) == signature)
        let request = try WebhookRequest.build(message, settings: settings)
        let (headers, body) = http(request)
        for (index, entry) in entries.enumerated() {
            #expect(WebhookSignature.verify(id: message.key, timestamp: "\(Int(message.date.timeIntervalSince1970))", signatures: String(entry),
                                            body: Data(body.utf8), secrets: [[secret, next][index]], now: message.date))
        }
        #expect(headers.contains(header))
    }

    @Test func classifiesSMTPReplies() {
        #expect(SMTPTransport.classify(response(status: 250)).label == "sent")
        #expect(SMTPTransport.classify(response(curl: 55, status: 550)).label == "permanent")
        #expect(SMTPTransport.classify(response(curl: 55, status: 451)).label == "transient")
        #expect(SMTPTransport.classify(response(curl: 7, status: 0)).label == "transient")
        #expect(SMTPTransport.classify(response(curl: 64, status: 0)).label == "permanent")
    }
}
