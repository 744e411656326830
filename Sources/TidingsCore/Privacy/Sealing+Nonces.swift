import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Sealing {
    /// Random nonces for AES-GCM, read from the kernel sixteen at a time: a nonce of its own
    /// asked the kernel once per sealed field, a tenth of sealing an event. The bytes come from
    /// the same source (`getentropy`), and each is used once. Not copyable: a copy would hand
    /// out the same nonces again, and a nonce used twice with one key breaks AES-GCM.
    public struct Nonces: ~Copyable, Sendable {
        static let size = 12
        static let batch = 16
        private var bytes: [UInt8] = []
        private var next = 0

        public init() {}

        /// The next unused nonce.
        mutating func take() throws -> AES.GCM.Nonce {
            if next == bytes.count {
                bytes = Sealing.randomBytes(count: Self.size * Self.batch)
                next = 0
            }
            defer { next += Self.size }
            return try AES.GCM.Nonce(data: bytes[next..<next + Self.size])
        }
    }

    /// `count` random bytes (at most 256, `getentropy`'s limit) in one system call, from the
    /// system's generator should the call fail.
    static func randomBytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        #if canImport(Glibc) || canImport(Musl)
        if bytes.withUnsafeMutableBytes({ getentropy($0.baseAddress, $0.count) }) == 0 { return bytes }
        #endif
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        return bytes
    }
}
