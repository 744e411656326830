import Foundation
import GRDB
import Testing
import TidingsApp
import TidingsCore
import TidingsStore

/// `tidings preview`: the messages events would send now, rendered, with nothing stored.
@Suite("tidings preview")
struct PreviewCommandTests {
    static let events = """
        {"specversion":"1.0","id":"p-1","source":"urn:test","type":"ticket.opened","subject":"t-9100","data":{"customer_id":"c-1001","kind":"complaint","summary":"The lid is cracked"}}
        {"specversion":"1.0","id":"p-2","source":"urn:test","type":"order.placed","subject":"o-6000","data":{"customer_id":"c-1002","items":[{"sku":"MUG","name":"Mug","quantity":1,"unit_price":12.5}],"total":12.5,"currency":"EUR"}}
        {"specversion":"1.0","id":"p-3","source":"urn:test","type":"order.shipped","subject":"o-6000","data":{"carrier":"DHL","tracking_number":"123"}}
        {"specversion":"1.0","id":"p-4","source":"urn:test","type":"order.shipped","subject":"o-7777","data":{"carrier":"DHL"}}
        """

    @Test func showsEachEventsMessagesRenderedAndStoresNothing() async throws {
        let (_, store) = try await ExampleDayOutboxTests.projectedDay(jumps: [])
        let directory = try Paths.temporaryDirectory("preview")
        let env = Paths.environment(in: directory).merging(["DATABASE_PATH": store.path]) { $1 }
        let before = try RebuildTests.tables(store)
        let head = try store.status(now: Date()).head

        let text = try await ChildProcess.tidings(["preview", "-"], environment: env, logs: directory, stdin: Data(Self.events.utf8))
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("event p-1 (ticket.opened, t-9100)"), "\(text.stdout)")
        #expect(text.stdout.contains("complaint_acknowledgement: email to"), "\(text.stdout)")
        #expect(text.stdout.contains("The lid is cracked"), "the acknowledgement is rendered")
        #expect(text.stdout.contains("waits: order o-7777 is not known yet"), "\(text.stdout)")

        let json = try await ChildProcess.tidings(["preview", "--format", "json", "-"], environment: env, logs: directory,
                                                  stdin: Data(Self.events.utf8))
        #expect(json.status == 0, "\(json.stderr)")
        let previews = try #require(try JSONValue.parse(Array(json.stdout.utf8)).arrayValue)
        #expect(previews.count == 4)
        // The order placed in the file is known to the event after it: it ships, it does not wait.
        let shipped = try #require(previews[2]["messages"]?.arrayValue)
        #expect(shipped.map { $0["workflow"]?.stringValue } == ["order_shipped"])
        #expect(shipped.first?["text"]?.stringValue?.contains("o-6000") == true)
        #expect(previews[3]["outcome"]?.stringValue?.hasPrefix("waits") == true)

        #expect(try store.status(now: Date()).head == head, "nothing was appended")
        RebuildTests.expectSame(before, try RebuildTests.tables(store), "a preview")
    }

    @Test func anInvalidEventIsNamedAndNothingIsPreviewed() async throws {
        let directory = try Paths.temporaryDirectory("preview-invalid")
        let env = Paths.environment(in: directory)
        let bad = #"{"specversion":"1.0","id":"x","source":"urn:test","type":"order.placed","subject":"o-1","data":{"total":"lots"}}"#
        let result = try await ChildProcess.tidings(["preview", "-"], environment: env, logs: directory, stdin: Data(bad.utf8))
        #expect(result.status == 65)
        #expect(result.stderr.contains("previewed nothing: ") && result.stderr.contains("data.customer_id: is required"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
