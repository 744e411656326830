import Foundation
import Testing
@testable import TidingsCore

/// The models' own JSON codec against Foundation's Codable, which wrote the rows before it:
/// each reads what the other writes, so old rows still read and new rows read anywhere.
@Suite("Read models as JSON")
struct ModelCodingTests {
    func models() -> (orders: [Order], customers: [Customer], tickets: [Ticket]) {
        var customer = Fixtures.customer(channels: ["sms", "email"], consent: ["sms": true, "messenger": true], messenger: "psid-1",
                                         optOut: ["follow_up"])
        customer.givenName = "Ann"
        customer.preferences.quietHours = Customer.QuietHours(start: "22:00", end: "07:30")
        customer.timezone = "Europe/Berlin"
        var order = try! #require(Reducers.order(nil, Fixtures.stored("order.placed", subject: "o-1", data: Fixtures.placedData)))
        order = Reducers.order(order, Fixtures.stored("order.shipped", subject: "o-1", data: [
            "carrier": "DPD", "tracking_url": "https://t.example/1", "estimated_delivery": "2026-11-26"], position: 2))!
        order = Reducers.order(order, Fixtures.stored("order.delayed", subject: "o-1", data: ["reason": "snow ❄️ \"quoted\""], position: 3))!
        order.outOfStock = ["MUG"]
        order.shipping = Order.Shipping(region: "North West", postcode: nil, carrier: "DPD")
        var bare = order
        bare.tracking = nil
        bare.delayNoticeAt = nil
        bare.delayNoticeHeld = nil
        bare.delayNoticePosition = nil
        bare.timeline = []
        let ticket = try! #require(Reducers.ticket(nil, Fixtures.stored("ticket.opened", subject: "t-1", data: [
            "customer_id": "c-1", "kind": "complaint", "summary": "Broken", "order_id": "o-1"]), promises: .standard))
        var answered = ticket
        answered.firstResponseAt = Fixtures.t0.addingTimeInterval(0.125)
        answered.resolvedAt = Fixtures.t0.addingTimeInterval(86_400.5)
        return ([order, bare], [customer, Customer(id: "c-2")], [ticket, answered])
    }

    func roundTrip<M: JSONModel & Codable & Equatable>(_ model: M) throws {
        let theirs = try JSONEncoder().encode(model)
        #expect(try M(document: Array(theirs)) == model, "ours reads Foundation's \(M.self)")
        let ours = try model.document()
        #expect(try JSONDecoder().decode(M.self, from: Data(ours)) == model, "Foundation reads ours")
        #expect(try M(document: ours) == model)
    }

    @Test func readsWhatFoundationWroteAndTheOtherWayRound() throws {
        let (orders, customers, tickets) = models()
        for order in orders { try roundTrip(order) }
        for customer in customers { try roundTrip(customer) }
        for ticket in tickets { try roundTrip(ticket) }
    }

    /// `document()` writes bytes without the tree; they must be the tree's, byte for byte (a
    /// field out of sorted order would differ), and a number with no JSON form fails both.
    @Test func documentsWrittenStraightToBytesAreTheTreesBytes() throws {
        let (orders, customers, tickets) = models()
        var suppressed = customers[0]
        suppressed.suppressed = [
            Suppression(channel: .email, address: "a@example.com", reason: .bounced, detail: "5.1.1 \"gone\"\n", since: Fixtures.t0, key: "k-1"),
            Suppression(channel: .sms, address: "+447700900123", reason: .complained, detail: nil, since: Fixtures.t0, key: nil),
        ]
        for order in orders { #expect(try order.document() == order.json.encodedBytes()) }
        for customer in customers + [suppressed] { #expect(try customer.document() == customer.json.encodedBytes()) }
        for ticket in tickets { #expect(try ticket.document() == ticket.json.encodedBytes()) }
        var broken = orders[0]
        broken.total = .nan
        #expect(throws: JSONValue.EncodingError.self) { try broken.document() }
        #expect(throws: JSONValue.EncodingError.self) { try broken.json.encodedBytes() }
    }

    @Test func namesTheFieldThatDoesNotRead() {
        #expect { try Order(json: ["id": "o-1"]) } throws: { ($0 as? ModelDecodingError)?.field == "order.customerID" }
        #expect { try Ticket(json: ["id": 5]) } throws: { ($0 as? ModelDecodingError)?.description == "ticket.id: is not a string" }
        #expect(throws: (any Error).self) { try Customer(document: Array("null".utf8)) }
    }
}

/// Stored models are read straight from their bytes (`init(documentBytes:)`); the tree reader
/// (`init(json:)`) is kept as the reference to check it against: on any document the tree
/// reads, both give the same model, and no document, however damaged, crashes either.
@Suite("Read models from their bytes")
struct ModelBytesTests {
    func check<M: JSONModel & Equatable>(_ model: M, _ random: inout JSONParserTests.SplitMix64) throws {
        let document = try model.document()
        #expect(try M(documentBytes: document) == model)
        // Whitespace where JSON allows it, and a byte order mark, read the same.
        let spaced = Array("\u{FEFF} ".utf8) + Self.spaced(document)
        #expect(try M(documentBytes: spaced) == model)
        for _ in 0..<40 {
            var damaged = document
            for _ in 0..<(1 + random.next(below: 3)) {
                let index = random.next(below: damaged.count)
                switch random.next(below: 3) {
                case 0: damaged[index] = UInt8(random.next(below: 256))
                case 1: damaged.remove(at: index)
                default:
                    let structural = Array("{}[]\",:\\ n0".utf8)
                    damaged.insert(structural[random.next(below: structural.count)], at: index)
                }
            }
            let tree = try? damaged.withUnsafeBufferPointer { try JSONParser.parse($0) }
            let fromTree = tree.flatMap { try? M(json: $0) }
            let fromBytes = try? M(documentBytes: damaged)
            if let fromTree { #expect(fromBytes == fromTree, "what the tree reads, the bytes read the same") }
        }
    }

    /// Whitespace after every separator outside strings.
    static func spaced(_ document: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var inString = false, escaped = false
        for byte in document {
            out.append(byte)
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":") {
                out += [0x20, 0x0A]
            }
        }
        return out
    }

    @Test func bytesAndTreesReadTheSameModels() throws {
        var random = JSONParserTests.SplitMix64(seed: 0xB17E5)
        let (orders, customers, tickets) = ModelCodingTests().models()
        for _ in 0..<50 {
            for order in orders { try check(order, &random) }
            for customer in customers { try check(customer, &random) }
            for ticket in tickets { try check(ticket, &random) }
        }
        for _ in 0..<300 {
            try check(TemplateContextTests.order(&random), &random)
            try check(TemplateContextTests.customer(&random), &random)
            try check(TemplateContextTests.ticket(&random), &random)
        }
    }

    @Test func escapedKeysAndDuplicatesReadAsTheParserReadsThem() throws {
        let document = Array(#"{"\u0069d":"c-1","id":"c-2","name":null,"preferences":{"channels":["sms"]}}"#.utf8)
        let customer = try Customer(documentBytes: document)
        #expect(customer.id == "c-1", "the first of duplicate keys wins, escaped or not")
        #expect(customer.name == nil && customer.preferences.channels == [.sms])
        #expect(throws: (any Error).self) { try Customer(documentBytes: Array(#"{"id":"c-1"} x"#.utf8)) }
        #expect(throws: (any Error).self) { try Customer(documentBytes: Array(#"{"id":"c-\u12"}"#.utf8)) }
        #expect(throws: (any Error).self) { try Order(documentBytes: Array(#"{"id":"o","items":[{"sku":1}}"#.utf8)) }
    }
}
