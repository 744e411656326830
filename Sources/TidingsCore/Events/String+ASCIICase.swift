extension StringProtocol {
    /// SQLite's `NOCASE`: A-Z fold to a-z, nothing else does. Regions, carriers and the
    /// console's email search compare this way, in SQL and in Swift alike.
    public func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        func fold(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }
        return utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { fold($0) == fold($1) }
    }
}
