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
            // Contains c-1's address as text: a candidate the search must not return.
            CloudEvent(id: "c-3", source: "urn:console", type: "customer.registered", subject: "c-3", time: start,
                       data: ["name": "Jo", "email": "joann@example.com"]),
            CloudEvent(id: "o-1", source: "urn:console", type: "order.placed", subject: "o-1", time: start,
                       data: ["customer_id": "c-1", "total": 5, "currency": "EUR", "items": [["sku": "A", "name": "Mug", "quantity": 1, "unit_price": 5]]]),
            CloudEvent(id: "t-1", source: "urn:console", type: "ticket.opened", subject: "t-1", time: start,
                       data: ["customer_id": "c-1", "kind": "complaint", "summary": "Late"]),
        ]
    }

    /// A new database of the kind with `events` applied, and the configuration's runtime.
    func opened(_ backend: TestBackend, _ name: String, events: [CloudEvent], _ body: (TestBackend.Opened, Runtime) async throws -> Void) async throws {
        let directory = try Paths.temporaryDirectory(name)
        let env = Paths.environment(in: directory).merging(["DATABASE_SYNCHRONOUS": "normal"]) { $1 }
        let runtime = try await Runtime.load(configPath: try #require(env["TIDINGS_CONFIG"]), environment: env)
        try await backend.with(env, runtime: runtime, events: events, now: start) { opened in try await body(opened, runtime) }
    }

    @Test(arguments: TestBackend.allCases)
    func findsCustomersByAddressAndReadsTheirOrdersTicketsAndMessages(_ backend: TestBackend) async throws {
        try await opened(backend, "console-\(backend)", events: events) { opened, runtime in
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
            let held = try await reads.heldMessages(customerID: "c-1", after: start.addingTimeInterval(-60), limit: 100)
            #expect(held.contains { $0.id == ack.id && $0.workflow == "complaint_acknowledgement" }, "nothing sent yet: the acknowledgement waits")
            #expect(try await reads.heldMessages(customerID: "c-1", after: start.addingTimeInterval(86_400 * 365), limit: 100).isEmpty)
            #expect(try await reads.heldMessages(customerID: "c-1", after: start.addingTimeInterval(-60), limit: 1).count == 1)
        }
    }

    /// More messages than a page: newest first, paged back with `before`, by customer and by
    /// subject; nothing skipped or shown twice.
    @Test(arguments: TestBackend.allCases)
    func pagesBackThroughALongHistoryNewestFirst(_ backend: TestBackend) async throws {
        let tickets = (1...7).map { n in
            CloudEvent(id: "t-\(n)", source: "urn:console", type: "ticket.opened", subject: "t-\(n)", time: start,
                       data: ["customer_id": "c-1", "kind": "complaint", "summary": .string("Late \(n)")])
        }
        try await opened(backend, "console-pages-\(backend)", events: Array(events.prefix(1)) + tickets) { opened, _ in
            let reads = opened.reads
            let all = try await reads.messages(state: nil, customerID: "c-1", subjectID: nil, id: nil, after: nil, limit: 100).map(\.id)
            #expect(all.count >= 7, "a message per ticket at least: \(all)")
            var paged: [Int64] = []
            var before: Int64?
            repeat {
                let page = try await reads.latestMessages(customerID: "c-1", subjectID: nil, before: before, limit: 3).map(\.id)
                #expect(page == page.sorted(by: >), "newest first")
                paged += page
                before = page.count == 3 ? page.last : nil
            } while before != nil
            #expect(paged == all.reversed(), "every message once, newest first")
            let aboutOne = try await reads.latestMessages(customerID: nil, subjectID: "t-4", before: nil, limit: 10)
            #expect(!aboutOne.isEmpty && aboutOne.allSatisfy { $0.subjectID == "t-4" })
            #expect(try await reads.latestMessages(customerID: "c-1", subjectID: nil, before: all.first, limit: 10).isEmpty)
        }
    }

    /// Retries and enables are recorded with who asked and what changed, newest first; one
    /// that changed nothing too.
    @Test(arguments: TestBackend.allCases)
    func recordsWhatOperatorsDid(_ backend: TestBackend) async throws {
        try await opened(backend, "console-actions-\(backend)", events: events) { opened, _ in
            let reads = opened.reads
            #expect(try await reads.operatorActions(limit: 10).isEmpty)
            let ack = try #require(try await reads.messages(state: nil, customerID: "c-1", subjectID: nil, id: nil, after: nil, limit: 10).first)
            let ops = OperatorAction.Actor(via: .console, name: "ops")
            #expect(try await reads.retry(messageID: ack.id, now: start, by: ops) == 0, "not dead: nothing to retry")
            try await opened.execute("UPDATE messages SET state = 'dead' WHERE id = \(ack.id)")
            #expect(try await reads.retry(messageID: nil, now: start.addingTimeInterval(1), by: OperatorAction.Actor(via: .api, name: "admin")) == 1)
            #expect(try await reads.enableEndpoints(channel: .sms, now: start.addingTimeInterval(2), by: OperatorAction.Actor(via: .cli, name: "root")) == 0)
            let actions = try await reads.operatorActions(limit: 10)
            #expect(actions == [
                OperatorAction(at: start.addingTimeInterval(2), actor: OperatorAction.Actor(via: .cli, name: "root"), kind: .enableEndpoints, target: "sms",
                               affected: 0),
                OperatorAction(at: start.addingTimeInterval(1), actor: OperatorAction.Actor(via: .api, name: "admin"), kind: .retry, target: "all dead",
                               affected: 1),
                OperatorAction(at: start, actor: ops, kind: .retry, target: "\(ack.id)", affected: 0),
            ])
            #expect(try await reads.operatorActions(limit: 1).count == 1)
        }
    }

    /// The search by address reads documents as text: one that is not JSON, or not UTF-8,
    /// fails no search, and a document that merely contains the address is not a match, even
    /// when more of those than a page of candidates come before the one that is.
    @Test(arguments: TestBackend.allCases)
    func aDamagedCustomerDocumentFailsNoSearch(_ backend: TestBackend) async throws {
        let decoys = (0..<(ContactSearch.pageSize + 100)).map { n in
            CloudEvent(id: "a-\(n)", source: "urn:console", type: "customer.registered", subject: "a-\(n)", time: start,
                       data: ["name": "Decoy", "email": .string("\(n)ann@example.com")])
        }
        try await opened(backend, "console-damaged-\(backend)", events: events + decoys) { opened, _ in
            let reads = opened.reads
            #expect(try await reads.customers(withContact: "ann@example.com", limit: 10).map(\.id) == ["c-1"], "not joann@example.com")
            #expect(try await reads.customers(withContact: "JOANN@example.COM", limit: 10).map(\.id) == ["c-3"])
            let damaged = backend == .sqlite ? "CAST(X'7B2262726F6B656E22FF' AS BLOB)" : "'\\x7b2262726f6b656e22ff'::bytea"
            try await opened.execute("UPDATE customers SET doc = \(damaged) WHERE id = 'c-2'")
            #expect(try await reads.customers(withContact: "ann@example.com", limit: 10).map(\.id) == ["c-1"])
            #expect(try await reads.customers(withContact: "bo@example.com", limit: 10).isEmpty)
            #expect(try await reads.customers(withContact: "broken", limit: 10).isEmpty, "a candidate that does not read is no match")
        }
    }
}
