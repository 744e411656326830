import Foundation
import Testing
@testable import TidingsCore

/// Template contexts are written straight to bytes by the pipeline and built as trees for
/// rendering and conditions, both from `TemplateContext.write(to:)`: the bytes must be the
/// tree's, byte for byte (a member out of key order would differ), and one member alone must be
/// the tree's member.
@Suite("Template contexts")
struct TemplateContextTests {
    typealias Random = JSONParserTests.SplitMix64

    static func text(_ random: inout Random) -> String { JSONParserTests.randomString(&random) }

    static func pick<T>(_ choices: [T], _ random: inout Random) -> T { choices[random.next(below: choices.count)] }

    static func maybe<T>(_ random: inout Random, _ make: (inout Random) -> T) -> T? {
        random.next(below: 3) == 0 ? nil : make(&random)
    }

    static func date(_ random: inout Random) -> Date {
        Date(timeIntervalSince1970: 1_700_000_000 + Double(random.next(below: 200_000_000)) + Double(random.next(below: 1000)) / 1000)
    }

    static func customer(_ random: inout Random) -> Customer {
        var customer = Customer(id: text(&random))
        customer.name = maybe(&random, text)
        customer.givenName = maybe(&random, text)
        customer.familyName = maybe(&random, text)
        customer.greetingName = maybe(&random, text)
        customer.email = maybe(&random, text)
        customer.phone = maybe(&random, text)
        customer.locale = maybe(&random, text)
        customer.timezone = maybe(&random) { pick(["Europe/Berlin", "America/New_York", "Nowhere/Else", $0.next(below: 2) == 0 ? "UTC" : ""], &$0) }
        return customer
    }

    static func order(_ random: inout Random) -> Order {
        let statuses: [Order.Status] = [.placed, .shipped, .delayed, .outForDelivery, .delivered, .cancelled]
        let items = (0..<random.next(below: 4)).map { _ in
            Order.Item(sku: text(&random), name: text(&random), quantity: Double(random.next(below: 5)),
                       unitPrice: JSONParserTests.randomDouble(&random))
        }
        var order = Order(id: text(&random), customerID: text(&random), status: Self.pick(statuses, &random), items: items,
                          total: JSONParserTests.randomDouble(&random), currency: text(&random), placedAt: date(&random),
                          shipBy: maybe(&random, date), deliverBy: maybe(&random, date))
        order.shipping = maybe(&random) { Order.Shipping(region: maybe(&$0, text), postcode: maybe(&$0, text), carrier: maybe(&$0, text)) }
        order.tracking = maybe(&random) {
            Order.Tracking(carrier: maybe(&$0, text), number: maybe(&$0, text), url: maybe(&$0, text),
                           estimatedDelivery: maybe(&$0) { $0.next(below: 2) == 0 ? "2026-11-\(10 + $0.next(below: 18))" : text(&$0) })
        }
        return order
    }

    static func ticket(_ random: inout Random) -> Ticket {
        Ticket(id: text(&random), customerID: text(&random), kind: pick(["complaint", "query", text(&random)], &random),
               status: .open, summary: maybe(&random, text), orderID: maybe(&random, text), channel: nil, openedAt: date(&random),
               firstResponseAt: nil, resolvedAt: nil, firstResponseDue: date(&random), resolutionDue: date(&random))
    }

    static func data(_ random: inout Random) -> JSONValue {
        var data = JSONParserTests.randomValue(&random, depth: 1)
        if case .object = data, random.next(below: 2) == 0 {
            data["amount"] = .number(JSONParserTests.randomDouble(&random))
            data["new_estimate"] = random.next(below: 2) == 0 ? "2026-12-24" : .string(text(&random))
            data["at"] = random.next(below: 2) == 0 ? "2026-12-03T10:00:00Z" : .string(text(&random))
        }
        return data
    }

    static func context(_ random: inout Random) -> TemplateContext {
        let type = pick(["order.shipped", "ticket.opened", Deadlines.disruption, text(&random)], &random)
        let event = CloudEvent(id: text(&random), source: "test", type: type, subject: nil, time: maybe(&random, date), data: data(&random))
        let group = (0..<random.next(below: 13)).map { _ in order(&random) }
        let shop = ShopInfo(name: text(&random), email: text(&random), url: text(&random), phone: text(&random),
                            complaintReferral: text(&random))
        return TemplateContext.make(event: StoredEvent(position: 1, recordedAt: date(&random), event: event), customer: customer(&random),
                                    order: group.first ?? maybe(&random, order), ticket: maybe(&random, ticket), shop: shop,
                                    promises: .standard, group: group)
    }

    @Test func bytesAreTheTreesBytesAndMembersTheTreesMembers() throws {
        var random = Random(seed: 0x7E3A)
        for _ in 0..<3_000 {
            let context = Self.context(&random)
            let tree = context.json
            guard let bytes = try? context.encoded() else {
                #expect(throws: JSONValue.EncodingError.self) { try tree.encodedBytes() }
                continue
            }
            #expect(bytes == (try tree.encodedBytes()))
            for key in ((tree.objectValue?.keys).map(Array.init) ?? []) + ["nothing"] {
                #expect(context.member(key) == tree[key])
            }
            let made = MessageContext.made(context)
            // Workflow conditions read members once per event: asked again, the same answer.
            var conditions = WorkflowEngine.Conditions(made)
            for path in ["ticket.kind", "customer.first_name", "order.tracking.url", "data", "event.type", "several_orders", "ticket..id"] {
                #expect(made.value(atPath: path) == tree.value(atPath: path), "\(path)")
                let first = conditions.value(atPath: path), again = conditions.value(atPath: path)
                #expect(first == tree.value(atPath: path) && again == first, "\(path)")
            }
            if let kind = tree.value(atPath: "ticket.kind")?.textValue {
                let held = conditions.hold(["ticket.kind": [kind], "customer.id": ["nobody"]], skipping: "customer.")
                let refused = conditions.hold(["ticket.kind": [kind + "x"]])
                #expect(held && !refused)
            }
            #expect(DisruptionScope.covered(by: made) == DisruptionScope.covered(by: tree))
            #expect(try made.encoded() == MessageContext.document(tree).encoded())
        }
    }

    @Test func aNumberWithNoJSONFormFailsAsTheTreesDoes() {
        var random = Random(seed: 1)
        var context = Self.context(&random)
        context.data = ["amount": "x", "nested": [["deep": .number(.infinity)]]]
        #expect(throws: JSONValue.EncodingError.self) { try context.encoded() }
        #expect(throws: JSONValue.EncodingError.self) { try context.json.encodedBytes() }
    }
}
