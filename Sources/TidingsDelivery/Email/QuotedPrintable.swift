/// Quoted-printable (RFC 2045) for UTF-8 text: lines end in CRLF and stay within 76
/// characters, so any text survives any mail server intact.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let lines = normalised.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            var lineLength = 0
            let bytes = Array(line.utf8)
            for (position, byte) in bytes.enumerated() {
                let isLast = position == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                if lineLength + piece.count > 75 {
                    output.append(contentsOf: [UInt8(ascii: "="), 13, 10])
                    lineLength = 0
                }
                output.append(contentsOf: piece)
                lineLength += piece.count
            }
            if index < lines.count - 1 { output.append(contentsOf: [13, 10]) }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
