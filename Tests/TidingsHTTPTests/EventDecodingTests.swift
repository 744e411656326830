import Foundation
import HTTPTypes
import Testing
@testable import TidingsHTTP

@Suite("HTTP: event decoding and tokens")
struct EventDecodingTests {
    let event = #"{"specversion":"1.0","id":"e-1","source":"urn:t","type":"order.delivered","subject":"o-1","data":{}}"#

    func headers(_ contentType: String, _ extra: [(String, String)] = []) -> HTTPFields {
        var fields: HTTPFields = [.contentType: contentType]
        for (name, value) in extra { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    @Test func takesTheFourModes() throws {
        #expect(try EventDecoding.decode(Array(event.utf8), headers: headers("application/cloudevents+json; charset=utf-8")).count == 1)
        #expect(try EventDecoding.decode(Array("[\(event),\(event)]".utf8), headers: headers("application/cloudevents-batch+json")).count == 2)
        #expect(try EventDecoding.decode(Array("\(event)\n\n\(event)\n".utf8), headers: headers("application/x-ndjson")).count == 2)
        let binary = try EventDecoding.decode(Array(#"{"at":"2026-11-23T10:00:00Z"}"#.utf8), headers: headers("application/json", [
            ("ce-specversion", "1.0"), ("ce-id", "b-1"), ("ce-source", "urn:t"), ("ce-type", "order.delivered"), ("ce-subject", "o-1"),
        ]))
        #expect(binary.first?.id == "b-1")
        #expect(binary.first?.subject == "o-1")
    }

    @Test func namesTheEventAndFieldAndRefusesOtherTypes() {
        let bad = #"{"specversion":"1.0","id":"e-2","source":"urn:t","type":"order.placed","subject":"o-2","data":{"customer_id":"c","total":"x","currency":"EUR","items":[{"sku":"A","name":"A","quantity":1,"unit_price":1}]}}"#
        #expect {
            try EventDecoding.decode(Array("[\(event),\(bad)]".utf8), headers: headers("application/cloudevents-batch+json"))
        } throws: { error in
            guard let problem = error as? Problem else { return false }
            return problem.status == .badRequest && problem.issues.first?.event == 2 && problem.issues.first?.field == "data.total"
        }
        #expect { try EventDecoding.decode(Array(event.utf8), headers: headers("text/plain")) } throws: {
            ($0 as? Problem)?.status == .unsupportedMediaType
        }
    }

    /// The media type read by bytes is what the Foundation expression it replaced gave, on
    /// random values built from the pieces that matter (empty parts, white space, case, and
    /// non-ASCII spaces and capitals); and each mode is still chosen by it.
    @Test func readsTheMediaTypeAsFoundationDid() throws {
        #expect(EventDecoding.mediaType(" \tApplication/CloudEvents+JSON ; charset=utf-8") == "application/cloudevents+json")
        #expect(EventDecoding.mediaType(";;application/x-ndjson") == "application/x-ndjson")
        #expect(EventDecoding.mediaType("") == "")
        let pieces = ["application/json", "APPLICATION/X-NDJSON", " ", "\t", ";", "charset=utf-8", "+json", "Text/Plain", "é", "É", "\u{A0}",
                      "\u{3000}", "\u{212A}", "\n", "a"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let value = (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let old = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            #expect(EventDecoding.mediaType(value) == old, "\(value.debugDescription)")
        }
        let modes: [(String, EventDecoding.Mode)] = [
            ("application/cloudevents+json", .structured), (" APPLICATION/CLOUDEVENTS-BATCH+JSON;x=1", .batch),
            (";application/x-ndjson", .ndjson), ("application/json\u{A0}", .binary), ("Application/Vnd.Shop+Json", .binary),
        ]
        for (type, mode) in modes {
            #expect(try EventDecoding.mode(of: headers(type, [("ce-specversion", "1.0")])) == mode, "\(type.debugDescription)")
        }
    }

    func problem(_ body: String, _ type: String = "application/cloudevents-batch+json") -> Problem? {
        problem(body, headers(type))
    }

    func problem(_ body: String, _ fields: HTTPFields) -> Problem? {
        do {
            _ = try EventDecoding.decode(Array(body.utf8), headers: fields)
            return nil
        } catch {
            return error
        }
    }

    /// A client may neither send a deadline early nor take the clock's ids, so a real deadline
    /// could never fire: the daemon's own types and source are refused, and nothing is stored.
    @Test func refusesTheDaemonsOwnEventsWith403() {
        let overdue = #"{"specversion":"1.0","id":"order.dispatch_overdue/o-1/2026-11-24T16:00:00Z","source":"urn:shop","type":"order.dispatch_overdue","subject":"o-1","data":{}}"#
        let clock = #"{"specversion":"1.0","id":"x","source":"urn:tidings:clock","type":"order.delivered","subject":"o-1","data":{}}"#
        let refused = problem("[\(event),\(overdue)]")
        #expect(refused?.status == .forbidden)
        #expect(refused?.issues.first?.event == 2)
        #expect(refused?.issues.first?.field == "type")
        #expect(problem(clock, "application/cloudevents+json")?.issues.first?.field == "source")
        #expect(problem(clock.replacingOccurrences(of: "urn:tidings:clock", with: "URN:Tidings:anything"), "application/cloudevents+json")?.status == .forbidden)
    }

    /// The same id twice in one request: the same event is stored once, but another event under
    /// a taken id would be dropped with a 201, so the request is refused.
    @Test func refusesAnIdReusedWithOtherContentInOneRequest() throws {
        #expect(try EventDecoding.decode(Array("[\(event),\(event)]".utf8), headers: headers("application/cloudevents-batch+json")).count == 2)
        let other = event.replacingOccurrences(of: "order.delivered", with: "order.shipped")
        let refused = problem("\(event)\n\(other)\n", "application/x-ndjson")
        #expect(refused?.status == .badRequest)
        #expect(refused?.issues.first?.event == 2)
        #expect(refused?.issues.first?.message.contains("also event 1 of this request") == true)
    }

    /// A NUL would be cut off in the log, making different events look stored already.
    @Test func refusesControlCharactersInAttributes() {
        for attribute in ["id", "source", "subject"] {
            let bad = event.replacingOccurrences(of: #""\#(attribute)":""#, with: #""\#(attribute)":"a\u0000"#)
            #expect(problem(bad, "application/cloudevents+json")?.issues.first?.field == attribute, "\(attribute)")
        }
        #expect(problem(event.replacingOccurrences(of: "e-1", with: "e\\u001b[31m"), "application/cloudevents+json")?.status == .badRequest)
    }

    /// 512 levels passed the parser but not the writer (stored as null, retried forever), and an
    /// amount of 1e17 trapped while formatting cents: both are refused at the door.
    @Test func refusesWhatCannotBeStoredOrFormatted() {
        let deep = String(repeating: "[", count: 510) + String(repeating: "]", count: 510)
        let nested = event.replacingOccurrences(of: #""data":{}"#, with: #""data":{"x":\#(deep)}"#)
        #expect(problem(nested, "application/cloudevents+json")?.issues.first?.field == "(event)")
        let rich = #"{"specversion":"1.0","id":"r","source":"urn:t","type":"order.refunded","subject":"o-1","data":{"amount":1e17}}"#
        #expect(problem(rich, "application/cloudevents+json")?.issues.first?.field == "data.amount")
    }

    /// The HTTP binding percent-encodes attribute values; a repeated ce-id would leave the id
    /// to chance.
    @Test func binaryModeAttributesArePercentDecodedAndNotRepeated() throws {
        let ce: [(String, String)] = [("ce-specversion", "1.0"), ("ce-id", "b-%C3%A9%20%25"), ("ce-source", "urn:t"),
                                      ("ce-type", "order.delivered"), ("ce-subject", "o-%31")]
        let event = try #require(try EventDecoding.decode(Array("{}".utf8), headers: headers("application/json", ce)).first)
        #expect(event.id == "b-é %")
        #expect(event.subject == "o-1")
        var twice = headers("application/json", ce)
        twice.append(HTTPField(name: HTTPField.Name("ce-id")!, value: "b-2"))
        #expect(problem("{}", twice)?.issues.first?.field == "id")
        var broken = headers("application/json", ce)
        broken[HTTPField.Name("ce-id")!] = "b-%zz"
        #expect(problem("{}", broken)?.status == .badRequest)
    }

    /// Any body, in any mode, is decoded or refused with a problem: never a crash or a hang.
    @Test func randomAndMutatedBodiesAreDecodedOrRefused() {
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let modes = ["application/cloudevents+json", "application/cloudevents-batch+json", "application/x-ndjson", "application/json"]
        let pieces = Array(#"{}[]",:"0123456789eE.-+ tfnul\u0000{"specversion":"1.0","id":"x","type":"order.placed","data":"#.utf8) + [0x0A]
        for round in 0..<4_000 {
            var body = Array((round % 2 == 0 ? "[\(event),\(event)]" : event).utf8)
            for _ in 0..<(1 + next() % 6) {
                let at = body.isEmpty ? 0 : Int(next() % UInt64(body.count))
                switch next() % 3 {
                case 0: if !body.isEmpty { body.remove(at: at) }
                case 1: body.insert(pieces[Int(next() % UInt64(pieces.count))], at: at)
                default: if !body.isEmpty { body[at] = UInt8(truncatingIfNeeded: next()) }
                }
            }
            let mode = modes[round % modes.count]
            let extra = mode == "application/json" ? [("ce-specversion", "1.0"), ("ce-id", "b"), ("ce-source", "s"), ("ce-type", "t")] : []
            do {
                let events = try EventDecoding.decode(body, headers: headers(mode, extra))
                #expect(!events.isEmpty)
            } catch {
                #expect(!error.detail.isEmpty, "\(error)")
            }
        }
    }

    @Test func tokensHaveScopesAndCompareInConstantTime() throws {
        let tokens = try APIToken.parse("shop ingest 0123456789abcdef0123; ops admin fedcba9876543210fedc")
        #expect(tokens.map(\.name) == ["shop", "ops"])
        #expect(TokenCheck.equal([1, 2, 3], [1, 2, 3]))
        #expect(!TokenCheck.equal([1, 2, 3], [1, 2, 4]))
        #expect { try APIToken.parse("shop everything 0123456789abcdef0123") } throws: { ($0 as? TokenSyntaxError)?.entry == 1 }
        #expect { try APIToken.parse("shop ingest short") } throws: { _ in true }
    }

    /// The bearer token is read by bytes; it must be what lower-casing and trimming through
    /// Foundation gave, for any header made of the pieces that matter.
    @Test func theBearerTokenIsReadAsFoundationReadIt() {
        let pieces = ["Bearer", "bearer", "BEARER", "BeArEr", "Basic", "Bearer:", " ", "  ", "\t", "tok", "0123456789abcdef", "é", "x y", ""]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let header = (0..<Int.random(in: 0...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let old: String? = header.lowercased().hasPrefix("bearer ") ? header.dropFirst(7).trimmingCharacters(in: .whitespaces) : nil
            #expect(TokenCheck.bearer(header).map(String.init) == old, "\(header.debugDescription)")
        }
    }
}
