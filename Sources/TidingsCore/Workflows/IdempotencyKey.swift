/// Builds message keys that stay the same across replays and rebuilds: they depend on the
/// event's identity `(source, id)` and the workflow, never on log positions or clocks.
public enum IdempotencyKey {
    public static func make(workflow: String, source: String, eventID: String) -> String {
        "\(workflow).\(hex(fnv1a64("\(source)\u{0}\(eventID)")))"
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
