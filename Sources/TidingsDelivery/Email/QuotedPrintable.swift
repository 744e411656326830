/// Quoted-printable (RFC 2045) for UTF-8 text: lines end in CRLF and stay within 76
/// characters, so any text survives any mail server intact.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
            var start = 0
            while true {
                // A line runs to the next CR, LF or CRLF (all become CRLF), or to the end.
                var end = start
                while end < bytes.count && bytes[end] != 10 && bytes[end] != 13 { end += 1 }
                append(line: UnsafeBufferPointer(rebasing: bytes[start..<end]), to: &output)
                guard end < bytes.count else { break }
                output.append(13)
                output.append(10)
                start = end + (bytes[end] == 13 && end + 1 < bytes.count && bytes[end + 1] == 10 ? 2 : 1)
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// One line: printable ASCII but `=` as it is, a space or tab as it is unless it ends the
    /// line, anything else as `=XX`; soft breaks keep encoded lines within 76 characters.
    private static func append(line: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var lineLength = 0
        for position in line.indices {
            let byte = line[position]
            let isLast = position == line.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
            let width = literal ? 1 : 3
            if lineLength + width > 75 {
                output.append(UInt8(ascii: "="))
                output.append(13)
                output.append(10)
                lineLength = 0
            }
            if literal {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "="))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            }
            lineLength += width
        }
    }
}
