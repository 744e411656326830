/// A hash of a value's canonical bytes (`encoded()`) without writing them: `tidings append`
/// compares an event seen twice in a file by it, and an event whose personal fields are sealed
/// is never stored as those bytes, so writing them only to hash them was a fifth of its
/// preparing.
extension JSONValue {
    /// Equal canonical bytes give equal hashes; other bytes other hashes, but for `Hasher`'s
    /// collisions. So strings hash by their UTF-8 (another Unicode normalisation is other
    /// content, as in the bytes), numbers by their bits (the writer keeps `-0` apart from `0`
    /// and writes every other double its own way), and members in any order (the bytes sort
    /// them), each with its key.
    public var contentHash: Int {
        var hasher = Hasher()
        combineContent(into: &hasher)
        return hasher.finalize()
    }

    func combineContent(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let value):
            hasher.combine(value ? 1 as UInt8 : 2)
        case .number(let value):
            hasher.combine(3 as UInt8)
            hasher.combine(value.bitPattern)
        case .string(let text):
            hasher.combine(4 as UInt8)
            Self.combineUTF8(text, into: &hasher)
        case .array(let items):
            hasher.combine(5 as UInt8)
            hasher.combine(items.count)
            for item in items { item.combineContent(into: &hasher) }
        case .object(let fields):
            // Order-free: each member hashed apart, the results added up.
            var sum = 0
            for (key, value) in fields {
                var member = Hasher()
                Self.combineUTF8(key, into: &member)
                value.combineContent(into: &member)
                sum &+= member.finalize()
            }
            hasher.combine(6 as UInt8)
            hasher.combine(fields.count)
            hasher.combine(sum)
        }
    }

    /// The length first, so that neighbouring strings cannot trade bytes.
    private static func combineUTF8(_ text: String, into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
    }
}
