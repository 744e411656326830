import Foundation

/// Lines of a file read a megabyte at a time, so an export of millions of events is never held
/// in memory whole. A last line without its newline counts.
public final class LineReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var start = 0
    var ended = false
    /// The number of the line `next()` gave last, from 1.
    public private(set) var number = 0

    public init(handle: FileHandle) {
        self.handle = handle
    }

    /// The next line that is not blank, without its line end; nil at the end of the file.
    public func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                number += 1
                if let text = Self.content(line) { return text }
                continue
            }
            if ended {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                number += 1
                return Self.content(line)
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { ended = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    /// A line without its `\r`, nil when it holds only spaces.
    static func content(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ? nil : line
    }
}
