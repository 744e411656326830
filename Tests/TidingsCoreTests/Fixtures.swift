import Foundation
@testable import TidingsCore

/// Small builders for events and models used across the core tests.
enum Fixtures {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func stored(_ type: String, subject: String, data: JSONValue, position: Int64 = 1, id: String? = nil) -> StoredEvent {
        let event = CloudEvent(id: id ?? "\(type)-\(subject)-\(position)", source: "urn:test", type: type, subject: subject,
                               time: t0.addingTimeInterval(Double(position) * 60), data: data)
        return StoredEvent(position: position, recordedAt: t0, event: event)
    }

    static func customer(channels: [String] = ["email"], consent: [String: Bool] = [:], email: String? = "ann@example.com",
                         phone: String? = "+447700900123", messenger: String? = nil, optOut: [String] = []) -> Customer {
        var data: JSONObject = [
            "name": "Ann Example",
            "preferences": [
                "channels": .array(channels.map { .string($0) }),
                "consent": .object(JSONObject(consent.mapValues { .bool($0) })),
                "opt_out": .array(optOut.map { .string($0) }),
            ],
        ]
        if let email { data["email"] = .string(email) }
        if let phone { data["phone"] = .string(phone) }
        if let messenger { data["messenger_id"] = .string(messenger) }
        return Reducers.customer(nil, stored("customer.registered", subject: "c-1", data: .object(data)))!
    }

    static let placedData: JSONValue = [
        "customer_id": "c-1", "total": 59.8, "currency": "EUR",
        "items": [["sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": 12.5], ["sku": "TEA", "name": "Tea", "quantity": 1, "unit_price": 34.8]],
        "dispatch_by": "2026-11-24T17:00:00Z",
    ]

    static let shop = ShopInfo(name: "Northwind", email: "help@northwind.example", url: "https://northwind.example", phone: "")
}
