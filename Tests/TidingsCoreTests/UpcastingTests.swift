import Foundation
import Testing
@testable import TidingsCore

/// Older shapes of event data, read as the current one; the stored event untouched.
@Suite("Upcasting")
struct UpcastingTests {
    func placed(_ extra: JSONObject = [:], data: JSONObject) -> JSONValue {
        var data = data
        data["customer_id"] = "c-1"
        data["items"] = [["sku": "MUG", "name": "Mug", "quantity": 1, "unit_price": 5]]
        data["total"] = 5
        data["currency"] = "GBP"
        var event: JSONObject = ["specversion": "1.0", "id": "e-1", "source": "urn:test", "type": "order.placed", "subject": "o-1",
                                          "data": .object(data)]
        for (key, value) in extra { event[key] = value }
        return .object(event)
    }

    func shipBy(_ json: JSONValue) throws -> Date? {
        let event = try EventValidator.validate(json).get()
        let order = Reducers.order(nil, StoredEvent(position: 1, recordedAt: Fixtures.t0, event: event))
        return order?.shipBy
    }

    let due = Timestamp.parse("2026-11-24T17:00:00Z")

    @Test func theOldNameTheNewNameAndTheNewVersionAllSetTheDispatchDeadline() throws {
        #expect(try shipBy(placed(data: ["ship_by": "2026-11-24T17:00:00Z"])) == due, "version 1, old name")
        #expect(try shipBy(placed(data: ["dispatch_by": "2026-11-24T17:00:00Z"])) == due, "version 1, new name")
        #expect(try shipBy(placed(["dataversion": 2], data: ["dispatch_by": "2026-11-24T17:00:00Z"])) == due)
        #expect(try shipBy(placed(["dataversion": "2"], data: ["dispatch_by": "2026-11-24T17:00:00Z"])) == due, "binary mode sends text")
        #expect(try shipBy(placed(["dataversion": 2], data: ["ship_by": "2026-11-24T17:00:00Z"])) == nil,
                "version 2 has no ship_by: checked, ignored")
        #expect(try shipBy(placed(["dataversion": 1], data: ["ship_by": "2026-11-24T17:00:00Z", "dispatch_by": "2026-11-25T17:00:00Z"]))
            == Timestamp.parse("2026-11-25T17:00:00Z"), "the new name wins")
    }

    @Test func aVersionThisBuildDoesNotKnowIsRefusedWithTheRange() {
        for version: JSONValue in [3, 0, -1, 1.5, "02", "two", true, .null] {
            guard case .failure(let error) = EventValidator.validate(placed(["dataversion": version], data: [:])) else {
                Issue.record("dataversion \(version) was accepted")
                continue
            }
            #expect(error.issues.contains { $0.field == "dataversion" && $0.message.contains("from 1 to 2") }, "\(version): \(error)")
        }
        var shipped = placed(["dataversion": 2], data: [:])
        shipped["type"] = "order.shipped"
        #expect(throws: (any Error).self, "order.shipped has only version 1") { try EventValidator.validate(shipped).get() }
    }

    @Test func anOldShapeErrsUnderTheNameItWasSentWith() {
        for (data, field) in [(["ship_by": "tomorrow"], "data.ship_by"), (["dispatch_by": "tomorrow"], "data.dispatch_by")] as [(JSONObject, String)] {
            guard case .failure(let error) = EventValidator.validate(placed(data: data)) else {
                Issue.record("accepted \(data)")
                continue
            }
            #expect(error.issues.map(\.field) == [field], "\(error)")
        }
    }

    @Test func readBackFromTheLogTheDataIsUpcastAndTheStoredEventIsNot() throws {
        let stored = placed(data: ["ship_by": "2026-11-24T17:00:00Z"])
        let event = try #require(CloudEvent(stored: stored))
        #expect(event.data["dispatch_by"]?.stringValue == "2026-11-24T17:00:00Z" && event.data["ship_by"] == nil)
        #expect(event.raw == stored, "what the log holds is what came")
        // A version from a later build is read as it is, never dropped.
        let later = try #require(CloudEvent(stored: placed(["dataversion": 9], data: ["x": 1])))
        #expect(later.data["x"] == 1)
    }

    @Test func everyStepIsTotalOnRandomData() {
        var fuzzer = SystemRandomNumberGenerator()
        let values: [JSONValue] = [.null, "", "2026-11-24T17:00:00Z", 3, [], [:], ["ship_by": 1]]
        for step in Upcasting.steps {
            for _ in 0..<200 {
                var data: JSONObject = [:]
                for key in ["ship_by", "dispatch_by", "x"] where Bool.random(using: &fuzzer) {
                    data[key] = values.randomElement(using: &fuzzer)
                }
                let upcast = step.upcast(data)
                #expect(upcast.count == data.count, "a rename neither loses nor invents a field")
                #expect(upcast["x"] == data["x"], "fields a step does not know are kept")
            }
        }
    }
}
