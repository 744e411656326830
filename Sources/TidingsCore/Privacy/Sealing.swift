import Crypto
import Foundation

/// Seals the personal fields of an event with its customer's key (AES-GCM, 256-bit) and opens
/// them again when the event is read. A sealed field is an object, `{"sealed": "<base64>"}`
/// (`sealed_json` for a value that is not a string), which no producer can send where a string
/// is expected (and inside an object sealed whole, what a producer sent is sealed too). The
/// customer's id is the authenticated data, so a sealed value cannot be moved to another
/// customer's event and still open.
public enum Sealing {
    static let marker = "sealed"
    static let jsonMarker = "sealed_json"

    /// A new random key for one customer.
    public static func newKey() -> Data {
        Data(randomBytes(count: 32))
    }

    /// The event's stored JSON with its personal fields sealed; unchanged when it has none.
    public static func seal(_ raw: JSONValue, type: String, customerID: String, key: Data) throws -> JSONValue {
        var nonces = Nonces()
        return try seal(raw, type: type, customerID: customerID, key: key, nonces: &nonces)
    }

    /// `seal`, with nonces from `nonces`: one source for many events.
    public static func seal(_ raw: JSONValue, type: String, customerID: String, key: Data, nonces: inout Nonces) throws -> JSONValue {
        guard let rule = PersonalData.rules[type], var data = raw["data"] else { return raw }
        let symmetric = SymmetricKey(data: key)
        let customer = Data(customerID.utf8)
        /// A string as its text; anything else (an address as an object, lines as a list) as
        /// its JSON, under its own marker, so it reads back as it was.
        func sealed(_ value: JSONValue) throws -> JSONValue {
            let (plain, name): (Data, String)
            switch value {
            case .null: return value
            case .string(let text): (plain, name) = (Data(text.utf8), marker)
            default: (plain, name) = (try value.encoded(), jsonMarker)
            }
            let box = try AES.GCM.seal(plain, using: symmetric, nonce: nonces.take(), authenticating: customer)
            guard let combined = box.combined else { return value }
            return .object([name: .string(combined.base64EncodedString())])
        }
        for field in rule.fields {
            if let value = data[field] { data[field] = try sealed(value) }
        }
        for (name, keep) in rule.objects {
            guard case .object(let object)? = data[name] else { continue }
            data[name] = .object(try object.compactMapMembers { keep.contains($0.key) ? $0.value : try sealed($0.value) })
        }
        var result = raw
        result["data"] = data
        return result
    }

    /// The event's JSON with its sealed fields opened. Without the key (the customer was
    /// forgotten), or with one that does not open them, the fields are left out: the event
    /// reads as one that never carried them.
    public static func open(_ raw: JSONValue, type: String, customerID: String, key: Data?) -> JSONValue {
        guard let rule = PersonalData.rules[type], var data = raw["data"] else { return raw }
        let symmetric = key.map { SymmetricKey(data: $0) }
        var changed = false
        /// The opened text; nil when the value is sealed and cannot be opened (it goes), the
        /// value itself when it is not sealed.
        func opened(_ value: JSONValue) -> JSONValue? {
            guard case .object(let fields) = value, fields.count == 1, let (name, content) = fields.first,
                  name == marker || name == jsonMarker, let sealed = content.stringValue
            else { return value }
            changed = true
            guard let symmetric, let combined = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: combined),
                  let plain = try? AES.GCM.open(box, using: symmetric, authenticating: Data(customerID.utf8))
            else { return nil }
            return name == marker ? .string(String(decoding: plain, as: UTF8.self)) : try? JSONValue.parse(plain)
        }
        for field in rule.fields {
            if let value = data[field] { data[field] = opened(value) }
        }
        for (name, keep) in rule.objects {
            guard case .object(let object)? = data[name] else { continue }
            // In one pass: a forgotten customer's fields all go, and an object may have many.
            data[name] = .object(object.compactMapMembers { keep.contains($0.key) ? $0.value : opened($0.value) })
        }
        guard changed else { return raw }
        var result = raw
        result["data"] = data
        return result
    }
}
