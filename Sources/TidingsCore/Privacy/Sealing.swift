import Crypto
import Foundation

/// Seals the personal fields of an event with its customer's key (AES-GCM, 256-bit) and opens
/// them again when the event is read. A sealed field is an object, `{"sealed": "<base64>"}`,
/// which no producer can send where a string is expected: nothing else is taken for one. The
/// customer's id is the authenticated data, so a sealed value cannot be moved to another
/// customer's event and still open.
public enum Sealing {
    static let marker = "sealed"

    /// A new random key for one customer.
    public static func newKey() -> Data {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }

    /// The event's stored JSON with its personal fields sealed; unchanged when it has none.
    public static func seal(_ raw: JSONValue, type: String, customerID: String, key: Data) throws -> JSONValue {
        guard let fields = PersonalData.fields[type], var data = raw["data"] else { return raw }
        let symmetric = SymmetricKey(data: key)
        for field in fields {
            guard let value = data[field], case .string(let text) = value else { continue }
            let box = try AES.GCM.seal(Data(text.utf8), using: symmetric, authenticating: Data(customerID.utf8))
            guard let combined = box.combined else { continue }
            data[field] = .object([marker: .string(combined.base64EncodedString())])
        }
        var sealed = raw
        sealed["data"] = data
        return sealed
    }

    /// The event's JSON with its sealed fields opened. Without the key (the customer was
    /// forgotten), or with one that does not open them, the fields are left out: the event
    /// reads as one that never carried them.
    public static func open(_ raw: JSONValue, type: String, customerID: String, key: Data?) -> JSONValue {
        guard let fields = PersonalData.fields[type], var data = raw["data"] else { return raw }
        let symmetric = key.map { SymmetricKey(data: $0) }
        var changed = false
        for field in fields {
            guard let value = data[field], let sealed = value[marker]?.stringValue, value.objectValue?.count == 1 else { continue }
            changed = true
            guard let symmetric, let combined = Data(base64Encoded: sealed),
                  let box = try? AES.GCM.SealedBox(combined: combined),
                  let plain = try? AES.GCM.open(box, using: symmetric, authenticating: Data(customerID.utf8))
            else {
                data[field] = nil
                continue
            }
            data[field] = .string(String(decoding: plain, as: UTF8.self))
        }
        guard changed else { return raw }
        var opened = raw
        opened["data"] = data
        return opened
    }
}
