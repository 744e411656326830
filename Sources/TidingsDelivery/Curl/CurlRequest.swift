/// One libcurl transfer, described as a value so it can cross to the worker's queue.
public struct CurlRequest: Sendable {
    public enum Payload: Sendable {
        /// An HTTP request; 3xx responses are returned, never followed.
        case http(method: String, headers: [String], body: [UInt8])
        /// An SMTP submission of a complete RFC 5322 message.
        case smtp(from: String, recipients: [String], message: [UInt8], tls: SMTPTLS)
        /// One SMTP command (NOOP) on a connection of its own, to read the server's EHLO
        /// capabilities from the response lines.
        case smtpProbe(tls: SMTPTLS)
    }

    /// How insistent to be about TLS on `smtp://` (on `smtps://` it is always on).
    public enum SMTPTLS: String, Sendable {
        /// STARTTLS or fail: the default, so credentials and mail never cross in clear text.
        case required
        /// STARTTLS when the server offers it.
        case opportunistic
        /// Plain SMTP, for a relay on loopback or a private network.
        case off
    }

    public var url: String
    public var payload: Payload
    public var username: String?
    public var password: String?
    public var connectTimeoutMilliseconds: Int
    public var timeoutMilliseconds: Int

    public init(url: String, payload: Payload, username: String? = nil, password: String? = nil,
                connectTimeoutMilliseconds: Int = 10_000, timeoutMilliseconds: Int = 30_000) {
        self.url = url
        self.payload = payload
        self.username = username
        self.password = password
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// What came back: libcurl's result, the protocol's reply code (HTTP status or the last SMTP
/// reply), response headers (none kept for an HTTP success: `CurlTransfer.receiveHeader`)
/// and body.
public struct CurlResponse: Sendable {
    /// `CURLE_OK` is 0.
    public var curlCode: Int
    public var errorMessage: String
    public var responseCode: Int
    public var headers: [String]
    public var body: [UInt8]
    /// The worker held the request for a connection and gave it back unsent: it waited too
    /// long, or the worker was told to give back what it holds (`CurlWorker.giveBack()`).
    public var givenBack = false

    public var succeeded: Bool { curlCode == 0 }

    /// The value of a response header, case-insensitively.
    public func header(_ name: String) -> String? {
        let prefix = name.lowercased() + ":"
        for line in headers where line.lowercased().hasPrefix(prefix) {
            return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }
}
