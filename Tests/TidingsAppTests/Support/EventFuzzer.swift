import Foundation
import TidingsCore

/// Random and mutated CloudEvents for the property-based tests: the example day's events with
/// fields changed, removed, retyped, nested deep or filled with hostile text, and events made
/// up from nothing. Seeded, so a failure can be replayed (`FUZZ_SEED`).
struct EventFuzzer {
    private var state: UInt64
    let seeds: [JSONValue]

    init(seed: UInt64, seeds: [JSONValue]) {
        state = seed
        self.seeds = seeds
    }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    static let hostileText = [
        "", " ", "\u{0}", "a\u{0}b", "\r\nBcc: x@evil.test", "\u{1B}[31mred", "{{customer.name}}", "{{{raw}}}", "<script>alert(1)</script>",
        "Zoë Müller", "😀🎉", "\u{202E}gnp.exe", String(repeating: "x", count: 5_000), "O'Brien, Liam", "%s%n", "../../etc/passwd",
        "2026-02-30", "2026-11-23T25:61:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "-1", "NaN", "null", "urn:tidings:clock",
    ]

    static let hostileNumbers: [Double] = [0, -0.0, -1, 0.005, 1e-300, 1e12, 1e15, 1e17, 9.2e18, 1e300, -1e300, .greatestFiniteMagnitude, 3.5, 1e6, 1e7]

    static let types = Array(EventCatalogue.schemas.keys).sorted() + ["shop.note", "order.unknown", "ticket", ""]

    mutating func text() -> String {
        chance(60) ? pick(Self.hostileText) : pick(["c-1001", "o-5001", "t-9001", "c-\(below(5))", "o-\(below(5))", "email", "sms", "de", "complaint"])
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch below(depth > 3 ? 4 : 7) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return .number(chance(50) ? pick(Self.hostileNumbers) : Double(below(1000)) / 10)
        case 3: return .string(text())
        case 4: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
        case 5: return .object(JSONObject(unsorted: (0..<below(4)).map { _ in (key: text(), value: value(depth: depth + 1)) }))
        default:
            var deep: JSONValue = .string("bottom")
            for _ in 0..<(chance(50) ? 40 : 600) { deep = [deep] }
            return deep
        }
    }

    /// One event: a seed with a mutation or several, or one made up.
    mutating func event(id: Int) -> JSONValue {
        var event: JSONValue
        if chance(80) {
            event = pick(seeds)
            for _ in 0..<(1 + below(3)) { mutate(&event) }
        } else {
            event = ["specversion": "1.0", "source": "urn:fuzz", "type": .string(pick(Self.types)), "subject": .string(text()),
                     "data": .object(JSONObject(unsorted: (0..<below(6)).map { _ in (key: text(), value: value()) }))]
        }
        if chance(95) { event["id"] = .string("fuzz-\(id)") }
        return event
    }

    /// Changes one thing, somewhere in the event.
    mutating func mutate(_ event: inout JSONValue) {
        guard case .object(var fields) = event else { return }
        let key = pick(Array(fields.keys).sorted())
        switch below(6) {
        case 0: fields[key] = nil
        case 1: fields[key] = value()
        case 2: fields["type"] = .string(pick(Self.types))
        case 3: fields["subject"] = .string(pick(["c-1001", "o-5001", "o-5003", "t-9001", "c-unknown", "o-unknown", text()]))
        default:
            if case .object(var data) = fields["data"] ?? .null, let field = data.keys.sorted().randomElement(using: &self) {
                data[field] = chance(30) ? nil : value()
                if chance(30) { data[text()] = value() }
                fields["data"] = .object(data)
            } else {
                fields["data"] = value()
            }
        }
        event = .object(fields)
    }
}

extension EventFuzzer: RandomNumberGenerator {}
