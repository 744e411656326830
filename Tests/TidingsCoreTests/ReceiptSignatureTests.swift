import Foundation
import Testing
@testable import TidingsCore

/// The three ways a receipt proves where it came from, checked against the providers'
/// published examples (Twilio's validator vectors, the Standard Webhooks reference vector) and,
/// for Meta, an HMAC computed independently (`openssl dgst -sha256 -hmac`).
@Suite("Receipt signatures")
struct ReceiptSignatureTests {
    let twilioURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    let twilioParameters = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"), ("From", "+14158675309"), ("To", "+18005551212"),
    ]

    @Test func twilioSignaturesMatchTwiliosPublishedExamples() {
        #expect(TwilioSignature.compute(url: twilioURL, parameters: twilioParameters, authToken: "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(TwilioSignature.verify("RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: twilioURL, parameters: twilioParameters.reversed(), authToken: "12345"))
        // A repeated name: its values sorted, a pair sent twice counted once.
        let repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
        #expect(TwilioSignature.compute(url: twilioURL, parameters: repeated, authToken: "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    }

    @Test func forgedTwilioCallbacksAreRefused() {
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        var tampered = twilioParameters
        tampered[2].1 = "9999"
        #expect(!TwilioSignature.verify(good, url: twilioURL, parameters: tampered, authToken: "12345"))
        #expect(!TwilioSignature.verify(good, url: twilioURL + "&extra=1", parameters: twilioParameters, authToken: "12345"))
        #expect(!TwilioSignature.verify(good, url: twilioURL, parameters: twilioParameters, authToken: "54321"))
        #expect(!TwilioSignature.verify("not base64 王", url: twilioURL, parameters: twilioParameters, authToken: "12345"))
        #expect(!TwilioSignature.verify("", url: twilioURL, parameters: twilioParameters, authToken: "12345"))
    }

    @Test func formBodiesDecodeAsTwilioSendsThem() throws {
        let pairs = try #require(FormEncoding.pairs(Array("MessageStatus=delivered&To=%2B447700900123&Body=a+b%26c&Empty=".utf8)))
        #expect(pairs.map(\.0) == ["MessageStatus", "To", "Body", "Empty"])
        #expect(pairs.map(\.1) == ["delivered", "+447700900123", "a b&c", ""])
        #expect(FormEncoding.pairs(Array("a=%ZZ".utf8)) == nil)
    }

    @Test func metaSignaturesAreTheBodysHMAC() {
        let body = Array(#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"psid-1"},"recipient":{"id":"page"},"delivery":{"watermark":1700000000000}}]}]}"#.utf8)
        let expected = "sha256=0583005cd300107f980ad91c77c701e0a48285730bc1dd758d54c76446d10dca"
        #expect(HubSignature.compute(body: body, appSecret: "meta-app-secret") == expected)
        #expect(HubSignature.verify(expected, body: body, appSecret: "meta-app-secret"))
        #expect(HubSignature.verify(expected.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: body, appSecret: "meta-app-secret"))
        #expect(!HubSignature.verify(expected, body: body + [0x20], appSecret: "meta-app-secret"))
        #expect(!HubSignature.verify(expected, body: body, appSecret: "another"))
        #expect(!HubSignature.verify("sha1=abc", body: body, appSecret: "meta-app-secret"))
        #expect(!HubSignature.verify("sha256=zz", body: body, appSecret: "meta-app-secret"))
    }

    @Test func standardWebhooksReceiptsVerifyWithinTheTolerance() throws {
        // The reference vector of the Standard Webhooks specification.
        let secret = try #require(WebhookSignature.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        let sent = Date(timeIntervalSince1970: 1_614_265_330)
        #expect(WebhookSignature.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signatures: "v1,bm9wZQ== " + signature,
                                        body: body, secrets: [secret], now: sent.addingTimeInterval(60)))
        #expect(!WebhookSignature.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signatures: signature, body: body,
                                         secrets: [secret], now: sent.addingTimeInterval(301)), "a replay after five minutes")
        #expect(!WebhookSignature.verify(id: "msg_other", timestamp: "1614265330", signatures: signature, body: body, secrets: [secret], now: sent))
        #expect(!WebhookSignature.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "soon", signatures: signature, body: body,
                                         secrets: [secret], now: sent))
    }

    @Test func messageIDsCarryATagOnlyThisTidingsCanMake() throws {
        let old = try #require(WebhookSignature.Secret("whsec_" + Data(repeating: 1, count: 32).base64EncodedString()))
        let new = try #require(WebhookSignature.Secret("whsec_" + Data(repeating: 2, count: 32).base64EncodedString()))
        let signer = try #require(MessageIDSigner(secrets: [old]))
        let key = "order_confirmation.0123abcd"
        let left = signer.leftPart(for: key)
        #expect(left.hasPrefix(key + ".") && left.count == key.count + 17)
        #expect(signer.messageKey(from: left) == key)
        #expect(signer.messageKey(from: key) == nil, "an untagged id names nothing")
        #expect(signer.messageKey(from: key + ".0000000000000000") == nil, "a forged tag")
        #expect(signer.messageKey(from: "order_confirmation.ffff." + left.split(separator: ".").last!) == nil, "a tag moved to another key")
        // Rotation: the new secret signs, the old one still verifies what went out before.
        let rotated = try #require(MessageIDSigner(secrets: [new, old]))
        #expect(rotated.messageKey(from: left) == key && rotated.leftPart(for: key) != left)
        #expect(MessageIDSigner(secrets: []) == nil)
    }
}
