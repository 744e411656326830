import Foundation
import Testing
import TidingsApp
import TidingsCore

/// The console's reads, on both backends: a customer found by an address, their orders and
/// tickets, and what a message was rendered from.
@Suite("Console queries")
struct ConsoleQueriesTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    var events: [CloudEvent] {
        [
            CloudEvent(id: "c-1", source: "urn:console", type: "customer.registered", subject: "c-1", time: start,
                       data: ["name": "Ann", "email": "Ann@Example.com", "phone": "+447700900001"]),
            CloudEvent(id: "c-2", source: "urn:console", type: "customer.registered", subject: "c-2", time: start,
                       data: ["name": "Bo", "email": "bo@example.com"]),
            CloudEvent(id: "o-1", source: "urn:console", type: "order.placed", subject: "o-1", time: start,
                       data: ["customer_id": "c-1", "total": 5, "currency": "EUR", "items": [["sku": "A", "name": "Mug", "quantity": 1, "unit_price": 5]]]),
            CloudEvent(id: "t-1", source: "urn:console", type: "ticket.opened", subject: "t-1", time: start,
                       data: ["customer_id": "c-1", "kind": "complaint", "summary": "Late"]),
        ]
    }

    @Test(arguments: TestBackend.allCases)
    func findsCustomersByAddressAndReadsTheirOrdersTicketsAndMessages(_ backend: TestBackend) async throws {
        let directory = try Paths.temporaryDirectory("console-\(backend)")
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal"]) { $1 }
        let runtime = try await Runtime.load(configPath: try #require(env["TIDINGS_CONFIG"]), environment: env)
        try await backend.with(env, runtime: runtime, events: events, now: start) { opened in
            let reads = opened.reads
            #expect(try await reads.customers(withContact: "ann@EXAMPLE.com", limit: 10).map(\.id) == ["c-1"], "email, whatever its case")
            #expect(try await reads.customers(withContact: "+447700900001", limit: 10).map(\.id) == ["c-1"])
            #expect(try await reads.customers(withContact: "nobody@example.com", limit: 10).isEmpty)
            #expect(try await reads.customers(withContact: "' OR 1=1 --", limit: 10).isEmpty)
            #expect(try await reads.orders(customerID: "c-1", limit: 10).map(\.id) == ["o-1"])
            #expect(try await reads.tickets(customerID: "c-1", limit: 10).map(\.id) == ["t-1"])
            #expect(try await reads.orders(customerID: "c-2", limit: 10).isEmpty)

            let messages = try await reads.messages(state: nil, customerID: "c-1", subjectID: nil, id: nil, after: nil, limit: 10)
            let ack = try #require(messages.first { $0.workflow == "complaint_acknowledgement" })
            let content = try #require(try await reads.messageContent(id: ack.id))
            #expect(content.template == "complaint_acknowledgement" && content.channel == .email && content.locale == "en")
            #expect(content.context.value(atPath: "ticket.reference") == "T-1")
            let rendered = try runtime.catalog.render(template: content.template, channel: .email, locale: content.locale, context: content.context)
            #expect(rendered.subject?.contains("T-1") == true)
            #expect(try await reads.messageContent(id: 999_999) == nil)
            #expect(try await reads.messageID(key: ack.key) == ack.id)

            // What is still to come: the ticket's deadlines, and the unsent messages' due times.
            let timers = try await reads.timers(subjects: ["o-1", "t-1"])
            #expect(timers.contains { $0.type == Deadlines.responseOverdue && $0.subject == "t-1" }, "\(timers)")
            #expect(timers.map(\.dueAt) == timers.map(\.dueAt).sorted())
            #expect(try await reads.timers(subjects: []).isEmpty)
            let held = try await reads.heldMessages(customerID: "c-1", after: start.addingTimeInterval(-60))
            #expect(held.contains { $0.id == ack.id && $0.workflow == "complaint_acknowledgement" }, "nothing sent yet: the acknowledgement waits")
            #expect(try await reads.heldMessages(customerID: "c-1", after: start.addingTimeInterval(86_400 * 365)).isEmpty)
        }
    }
}
