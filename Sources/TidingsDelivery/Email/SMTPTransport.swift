import Foundation
import Synchronization
import TidingsCore

/// Sends email over SMTP through libcurl (`smtp://` with STARTTLS, or `smtps://`), several
/// sessions at once, reusing connections between messages.
public final class SMTPTransport: CurlTransport {
    public struct Settings: Sendable {
        public var url: String
        public var from: MIMEMessage.Mailbox
        public var tls: CurlRequest.SMTPTLS
        public var username: String?
        public var password: String?
        public var concurrency: Int
        public var timeoutSeconds: Int
        public var options: EmailOptions

        public init(url: String, from: MIMEMessage.Mailbox, tls: CurlRequest.SMTPTLS, username: String?, password: String?,
                    concurrency: Int, timeoutSeconds: Int, options: EmailOptions = EmailOptions()) {
            self.url = url
            self.from = from
            self.tls = tls
            self.username = username
            self.password = password
            self.concurrency = concurrency
            self.timeoutSeconds = timeoutSeconds
            self.options = options
        }
    }

    let settings: Settings
    public let workers: CurlWorkerPool
    /// The relay's extensions, as its last EHLO reply said; nil until a connection told us.
    let capabilities = Mutex<SMTPCapabilities?>(nil)

    public init(settings: Settings) throws {
        self.settings = settings
        workers = try CurlWorkerPool(label: "smtp", connections: settings.concurrency, perWorker: Self.sessionsPerWorker)
    }

    /// Sessions one libcurl multi handle drives: each waits, blocking its handle, for the
    /// reply to every message's end (`CurlWorkerPool`).
    static let sessionsPerWorker = 4

    /// Builds the message (an address it cannot take fails here, before any connection), then
    /// sends it on a worker's queue; an address that needs SMTPUTF8 while the relay has not
    /// said yet whether it takes it waits for the question in a task of its own (a probe given
    /// back gives the message back too).
    public func start(_ message: OutgoingMessage, mayGiveBack: Bool, then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
        let bytes: [UInt8]
        do {
            bytes = try Self.mime(for: message, from: settings.from, options: settings.options).build()
        } catch {
            return done(.permanent(reason: "\(error)"))
        }
        // libcurl announces SMTPUTF8 when the server offers it, and otherwise sends the UTF-8
        // address anyway: so an address that needs it goes only to a server that offers it.
        guard SMTPCapabilities.needsSMTPUTF8(message.recipient) else {
            return send(bytes, to: message.recipient, mayGiveBack: mayGiveBack, then: done)
        }
        if let known = capabilities.withLock({ $0 }) {
            return send(bytes, to: message.recipient, offered: known, mayGiveBack: mayGiveBack, then: done)
        }
        Task {
            switch await capabilitiesOfTheRelay(mayGiveBack: mayGiveBack) {
            case .known(let offered): send(bytes, to: message.recipient, offered: offered, mayGiveBack: mayGiveBack, then: done)
            case .givenBack: done(nil)
            case .unknown: done(.transient(reason: "cannot reach the SMTP server to learn whether it takes UTF-8 addresses (SMTPUTF8)"))
            }
        }
    }

    /// Sends built bytes; an address that needs SMTPUTF8 only with what the relay offers.
    func send(_ bytes: [UInt8], to recipient: String, offered: SMTPCapabilities? = nil, mayGiveBack: Bool,
              then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
        if SMTPCapabilities.needsSMTPUTF8(recipient) && offered?.smtpUTF8 != true {
            return done(.permanent(reason: """
                the address has non-ASCII characters before the @, and the SMTP server does not offer SMTPUTF8 (RFC 6531), \
                so it cannot take it
                """))
        }
        let request = CurlRequest(
            url: settings.url, payload: .smtp(from: settings.from.address, recipients: [recipient], message: bytes, tls: settings.tls),
            username: settings.username, password: settings.password, connectTimeoutMilliseconds: 10_000,
            timeoutMilliseconds: settings.timeoutSeconds * 1000)
        workers.start(request, mayGiveBack: mayGiveBack) { response in
            guard !response.givenBack else { return done(nil) }
            self.learn(from: response)
            done(Self.classify(response))
        }
    }

    /// What asking the relay for its extensions gave.
    enum RelayAnswer {
        case known(SMTPCapabilities)
        /// Not asked: the worker held the probe for a connection and gave it back, so the
        /// message goes back unsent too, with no attempt counted.
        case givenBack
        /// Asked, and no answer.
        case unknown
    }

    /// What the relay offers: known from an earlier connection, or asked on one of its own.
    func capabilitiesOfTheRelay(mayGiveBack: Bool) async -> RelayAnswer {
        if let known = capabilities.withLock({ $0 }) { return .known(known) }
        let probe = CurlRequest(url: settings.url, payload: .smtpProbe(tls: settings.tls), username: settings.username,
                                password: settings.password, connectTimeoutMilliseconds: 10_000,
                                timeoutMilliseconds: settings.timeoutSeconds * 1000)
        let response = await workers.perform(probe, mayGiveBack: mayGiveBack)
        guard !response.givenBack else { return .givenBack }
        learn(from: response)
        return capabilities.withLock { $0 }.map(RelayAnswer.known) ?? .unknown
    }

    func learn(from response: CurlResponse) {
        guard let seen = SMTPCapabilities.parse(response.headers) else { return }
        capabilities.withLock { $0 = seen }
    }

    /// The MIME message for an outgoing email (shared with the spool, so a spooled `.eml` is
    /// exactly what would have been sent).
    /// Emails about one order or ticket thread: each later one answers the first. Those a
    /// customer may opt out of carry RFC 8058's one-click unsubscribe.
    public static func mime(for message: OutgoingMessage, from: MIMEMessage.Mailbox, options: EmailOptions = EmailOptions()) -> MIMEMessage {
        let signed = { (key: String) in options.messageIDs?.leftPart(for: key) ?? key }
        var mime = MIMEMessage(from: from, to: MIMEMessage.Mailbox(name: message.recipientName, address: message.recipient),
                               subject: message.content.subject ?? "", text: message.content.text, html: message.content.html,
                               idempotencyKey: signed(message.key), date: message.date)
        mime.inReplyTo = message.threadRoot.map { MIMEMessage.messageID(key: signed($0), from: from) }
        mime.replyTo = options.replyTo?.mailbox(for: message.subjectID)
        mime.extraHeaders = [("X-Tidings-Workflow", message.workflow)]
        // A URL cannot be folded: one that would not fit a header line (RFC 5322's 998) is left out.
        if let links = options.unsubscribe, UnsubscribeLinks.applies(to: message.category) {
            let url = links.url(customerID: message.customerID, category: message.category)
            if url.utf8.count <= 900 {
                mime.extraHeaders.append(("List-Unsubscribe", "<\(url)>"))
                mime.extraHeaders.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
            }
        }
        return mime
    }

    /// SMTP replies decide: 2xx sent, 4xx try later, 5xx refused for good. libcurl reports most
    /// refusals with the same error code, so the reply code is what counts. No reply at all is a
    /// connection problem, which is worth retrying.
    static func classify(_ response: CurlResponse) -> DeliveryOutcome {
        let reply = response.responseCode
        if response.succeeded { return .sent(detail: "SMTP \(reply)") }
        let reason = "SMTP \(reply == 0 ? "no reply" : String(reply)): \(response.errorMessage)"
        switch reply {
        case 500...599: return .permanent(reason: reason)
        case 400...499: return .transient(reason: reason)
        default:
            // 64 = CURLE_USE_SSL_FAILED: the server does not offer STARTTLS; retrying will not help.
            if response.curlCode == 64 {
                return .permanent(reason: "the SMTP server does not offer STARTTLS (smtp.starttls is 'required'): \(response.errorMessage)")
            }
            return .transient(reason: reason)
        }
    }
}
