import Foundation
import Testing
@testable import TidingsCore

/// Personal fields sealed with the customer's key, opened with it, and gone without it.
@Suite("Sealing personal data")
struct SealingTests {
    let customer: JSONValue = [
        "specversion": "1.0", "id": "e-1", "source": "urn:test", "type": "customer.registered", "subject": "c-1",
        "data": ["name": "Zelda Quux", "email": "zelda@example.com", "phone": "+4915112398765", "locale": "de-DE",
                 "preferences": ["channels": ["email"]]],
    ]

    func text(_ json: JSONValue) throws -> String { String(decoding: try json.encoded(), as: UTF8.self) }

    @Test func sealedFieldsReadBackWithTheKeyAndTheRestIsUntouched() throws {
        let key = Sealing.newKey()
        let sealed = try Sealing.seal(customer, type: "customer.registered", customerID: "c-1", key: key)
        let stored = try text(sealed)
        for secret in ["Zelda", "zelda@example.com", "4915112398765"] { #expect(!stored.contains(secret)) }
        #expect(sealed["data"]?["locale"] == "de-DE" && sealed["data"]?["preferences"] == customer["data"]?["preferences"])
        #expect(sealed["data"]?["email"]?["sealed"]?.stringValue != nil)
        #expect(Sealing.open(sealed, type: "customer.registered", customerID: "c-1", key: key) == customer)
    }

    @Test func withoutTheKeyTheFieldsAreLeftOutAndTheEventStillReads() throws {
        let sealed = try Sealing.seal(customer, type: "customer.registered", customerID: "c-1", key: Sealing.newKey())
        let forgotten = Sealing.open(sealed, type: "customer.registered", customerID: "c-1", key: nil)
        #expect(forgotten["data"]?["email"] == nil && forgotten["data"]?["name"] == nil && forgotten["data"]?["phone"] == nil)
        #expect(forgotten["data"]?["locale"] == "de-DE")
        let event = try #require(CloudEvent(stored: forgotten))
        let customer = Reducers.customer(nil, StoredEvent(position: 1, recordedAt: Fixtures.t0, event: event))
        #expect(customer?.email == nil && customer?.name == nil && customer?.locale == "de-DE")
    }

    @Test func anotherKeyOrAnotherCustomerOpensNothing() throws {
        let key = Sealing.newKey()
        let sealed = try Sealing.seal(customer, type: "customer.registered", customerID: "c-1", key: key)
        #expect(Sealing.open(sealed, type: "customer.registered", customerID: "c-1", key: Sealing.newKey())["data"]?["email"] == nil)
        // Moved to another customer's event, a sealed value does not open under their id.
        #expect(Sealing.open(sealed, type: "customer.registered", customerID: "c-2", key: key)["data"]?["email"] == nil)
    }

    /// A shipping address is personal whatever a producer puts in it, but for the region and
    /// carrier that disruptions are matched on.
    @Test func aShippingAddressIsSealedButItsRegionAndCarrier() throws {
        var data = Fixtures.placedData
        data["shipping"] = ["region": "London", "carrier": "DPD", "postcode": "ZX9 9QQ",
                            "address": ["lines": ["12 Quux Lane"], "city": "Erasmusville"], "floor": 3]
        let placed: JSONValue = ["type": "order.placed", "data": data]
        let key = Sealing.newKey()
        let sealed = try Sealing.seal(placed, type: "order.placed", customerID: "c-1", key: key)
        let text = try self.text(sealed)
        for secret in ["ZX9 9QQ", "Quux", "Erasmusville"] { #expect(!text.contains(secret)) }
        #expect(sealed["data"]?["shipping"]?["region"] == "London" && sealed["data"]?["shipping"]?["carrier"] == "DPD")
        #expect(sealed["data"]?["items"] == data["items"])
        #expect(Sealing.open(sealed, type: "order.placed", customerID: "c-1", key: key) == placed)
        let forgotten = Sealing.open(sealed, type: "order.placed", customerID: "c-1", key: nil)
        #expect(forgotten["data"]?["shipping"] == ["region": "London", "carrier": "DPD"])
        #expect(PersonalData.owner(of: CloudEvent(id: "e", source: "s", type: "order.placed", subject: "o-1", time: nil, data: data)) == "c-1")
    }

    @Test func eventsWithoutPersonalFieldsAreNotTouched() throws {
        let shipped: JSONValue = ["type": "order.shipped", "data": ["carrier": "DPD", "tracking_number": "1Z"]]
        #expect(try Sealing.seal(shipped, type: "order.shipped", customerID: "c-1", key: Sealing.newKey()) == shipped)
        #expect(PersonalData.owner(of: CloudEvent(id: "e", source: "s", type: "order.shipped", subject: "o-1", time: nil, data: [:])) == nil)
        let ticket = CloudEvent(id: "e", source: "s", type: "ticket.opened", subject: "t-1", time: nil,
                                data: ["customer_id": "c-9", "kind": "complaint", "summary": "Zelda here", "order_id": "o-1"])
        #expect(PersonalData.owner(of: ticket) == "c-9")
        #expect(PersonalData.entities(of: ticket) == ["ticket:t-1", "customer:c-9", "order:o-1"])
    }

    /// Whatever the text (any Unicode, empty, long), it reads back as it was sent.
    @Test func randomTextRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let key = Sealing.newKey()
        for _ in 0..<200 {
            let length = Int.random(in: 0..<300, using: &generator)
            let scalars = (0..<length).compactMap { _ in Unicode.Scalar(UInt32.random(in: 0...0x2FFFF, using: &generator)) }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            var event = customer
            event["data"]?["name"] = .string(text)
            let sealed = try Sealing.seal(event, type: "customer.registered", customerID: "c-1", key: key)
            #expect(Sealing.open(sealed, type: "customer.registered", customerID: "c-1", key: key)["data"]?["name"]?.stringValue == text)
        }
    }

    /// Nonces come sixteen at a time from one read of the kernel: every one of them is new,
    /// across the reads too, and what they seal opens.
    @Test func noncesTakenInBatchesAreAllDistinctAndSealedFieldsOpen() throws {
        var nonces = Sealing.Nonces()
        var seen: Set<Data> = []
        for _ in 0..<(Sealing.Nonces.batch * 3 + 5) {
            #expect(seen.insert(Data(try nonces.take())).inserted)
        }
        let key = Sealing.newKey()
        #expect(key.count == 32 && key != Sealing.newKey())
        var sealedNonces: Set<String> = []
        for _ in 0..<20 {
            let sealed = try Sealing.seal(customer, type: "customer.registered", customerID: "c-1", key: key, nonces: &nonces)
            #expect(Sealing.open(sealed, type: "customer.registered", customerID: "c-1", key: key) == customer)
            let box = Data(base64Encoded: sealed["data"]?["email"]?["sealed"]?.stringValue ?? "") ?? Data()
            #expect(sealedNonces.insert(box.prefix(12).base64EncodedString()).inserted)
        }
    }
}
