import Crypto

/// Builds message keys that stay the same across replays and rebuilds: they depend on the
/// event's identity `(source, id)` and the workflow, never on log positions or clocks.
///
/// The event's identity is hashed with SHA-256, so two events never share a key: the outbox
/// takes a second insert with a known key for a replay and skips it. (Keys made before by a
/// 64-bit FNV-1a stay in the rows that carry them and keep working; only new messages get the
/// new form.)
public enum IdempotencyKey {
    public static func make(workflow: String, source: String, eventID: String) -> String {
        var hash = SHA256()
        hash.update(data: Array(source.utf8))
        hash.update(data: [0])
        hash.update(data: Array(eventID.utf8))
        return "\(workflow).\(hex(hash.finalize()))"
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(SHA256.Digest.byteCount * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
