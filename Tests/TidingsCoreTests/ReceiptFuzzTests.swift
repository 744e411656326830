import Foundation
import Testing
@testable import TidingsCore

/// Receipts are outside input: bounce reports mailed back by any mail system, form bodies and
/// JSON posted by anyone who finds the endpoint. Random and mutated ones must give a report, a
/// receipt or a clear error, never a crash.
@Suite("Receipt fuzzing")
struct ReceiptFuzzTests {
    /// Mutations of a real report: bytes flipped, cut, repeated, lines dropped and doubled.
    @Test func mutatedBounceReportsParseOrFailCleanly() {
        var random = SystemRandomNumberGenerator()
        let seeds = [ReceiptTests.dsn(), ReceiptTests.dsn(action: "delayed", status: "4.4.1"), ReceiptTests.dsn(messageID: "no-brackets")]
        let specials: [UInt8] = Array("\r\n-:;=\"<>@ \t".utf8) + [0, 0xFF, 0xC3]
        var parsed = 0
        for round in 0..<3_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...12, using: &random) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: bytes[at] = specials.randomElement(using: &random)!
                case 1: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...80, using: &random)))
                case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 60)], at: at)
                case 4: bytes = Array(bytes.prefix(at))
                default: bytes.insert(contentsOf: Array("\r\n--B0UND.1\r\n".utf8), at: at)
                }
            }
            if let report = try? BounceReport.parse(bytes) {
                parsed += 1
                _ = report.receipt(for: ("c-1", "ann@example.com"))
                #expect(!report.messageID.isEmpty)
            }
        }
        #expect(parsed > 0, "some mutations keep the report readable")
    }

    @Test func randomBytesNeverCrashTheParsers() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? BounceReport.parse(Array("Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\n".utf8) + bytes)
            _ = FormEncoding.pairs(bytes)
            _ = TwilioSignature.verify(String(decoding: bytes, as: UTF8.self), url: "https://x.example/r", parameters: [], authToken: "t")
            _ = HubSignature.verify(String(decoding: bytes, as: UTF8.self), body: bytes, appSecret: "s")
            if let json = try? JSONValue.parse(bytes) { _ = MessengerDelivery.notifications(in: json) }
        }
    }

    /// Shapes that once crashed or crawled (found in review): an empty or bare `;` recipient,
    /// a header folded 200,000 times, a boundary as long as the body allows.
    @Test func emptyFieldsFoldsAndLongBoundariesAreRead() throws {
        for recipient in ["", ";", " ; ", "rfc822;"] {
            let text = "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: x\n\n"
                + "Final-Recipient: \(recipient)\nOriginal-Recipient: \(recipient)\nAction: failed\nStatus: 5.1.1\n\n"
                + "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <k@x>\n--b--\n"
            let report = try BounceReport.parse(Array(text.utf8))
            #expect(report.receipt(for: ("c-1", "ann@example.com")) == nil, "a report about no address names nobody")
        }
        let folded = "Content-Type: multipart/report; boundary=b\nX-Long: a\n" + String(repeating: " b\n", count: 200_000) + "\n--b--\n"
        #expect(throws: BounceReport.ParseError.self) { try BounceReport.parse(Array(folded.utf8)) }
        let boundary = String(repeating: "q", count: 200_000)
        let long = "Content-Type: multipart/report; boundary=\(boundary)\n\n" + String(repeating: "--x\n", count: 100_000)
        #expect(throws: BounceReport.ParseError.self) { try BounceReport.parse(Array(long.utf8)) }
    }

    /// A report built to be as slow as possible to read (many groups, many parts, long folded
    /// headers) is still read in one pass.
    @Test func largeHostileReportsAreReadWhole() throws {
        var text = "Content-Type: multipart/report; boundary=b\n\n"
        text += String(repeating: "--b\nContent-Type: text/plain\n\nx\n", count: 5_000)
        text += "--b\nContent-Type: message/delivery-status\n\n" + String(repeating: "Action: failed\nStatus: 5.0.0\n\n", count: 20_000)
        text += "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <k@x>\n" + String(repeating: " folded\n", count: 20_000) + "--b--\n"
        let report = try BounceReport.parse(Array(text.utf8))
        // The first group holds the per-message fields (RFC 3464), the rest one recipient each.
        #expect(report.recipients.count == 19_999 && report.key == "k")
        let messenger = JSONValue.object(["entry": .array(Array(repeating: ["messaging": .array(Array(repeating: [
            "sender": ["id": "p"], "delivery": ["watermark": 1_795_000_000_000],
        ], count: 100))], count: 100))])
        #expect(MessengerDelivery.notifications(in: messenger).count == 10_000)
    }
}
