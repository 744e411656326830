import Crypto

/// Builds message keys that stay the same across replays and rebuilds: they depend on the
/// event's identity `(source, id)` and the workflow, never on log positions or clocks.
///
/// The event's identity is hashed with SHA-256, so two events never share a key: the outbox
/// takes a second insert with a known key for a replay and skips it. (Keys made before by a
/// 64-bit FNV-1a stay in the rows that carry them and keep working; only new messages get the
/// new form.)
public enum IdempotencyKey {
    /// Made for every notification the pipeline decides on: the text is hashed in place (the
    /// hasher's generic `update(data:)` and two copies of the text were a percent of a
    /// catch-up) and the key written straight into its string.
    public static func make(workflow: String, source: String, eventID: String) -> String {
        var hash = SHA256()
        var source = source
        var eventID = eventID
        source.withUTF8 { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { hash.update(bufferPointer: $0) }
        eventID.withUTF8 { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digest = hash.finalize()
        var workflow = workflow
        return workflow.withUTF8 { name in
            String(unsafeUninitializedCapacity: name.count + 1 + 2 * SHA256.Digest.byteCount) { buffer in
                var count = buffer.initialize(fromContentsOf: name)
                buffer[count] = UInt8(ascii: ".")
                count += 1
                return writeHex(digest, into: buffer, at: count)
            }
        }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        String(unsafeUninitializedCapacity: 2 * SHA256.Digest.byteCount) { writeHex(digest, into: $0, at: 0) }
    }

    /// Writes the digest as lowercase hex from `start`; returns where it ended.
    private static func writeHex(_ digest: SHA256.Digest, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var count = start
        digest.withUnsafeBytes { bytes in
            for byte in bytes {
                buffer[count] = hexDigits[Int(byte >> 4)]
                buffer[count + 1] = hexDigits[Int(byte & 0x0F)]
                count += 2
            }
        }
        return count
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
