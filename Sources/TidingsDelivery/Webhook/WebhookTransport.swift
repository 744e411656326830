import Foundation
import TidingsCore

/// Posts messages to an HTTP endpoint: a generic JSON webhook, Twilio's Messages API, or the
/// Messenger Send API. 2xx is success; redirects are not followed.
public final class WebhookTransport: CurlTransport {
    /// `chat` posts `{"text": ...}`, which Slack, Mattermost and Rocket.Chat incoming webhooks
    /// take as they are: for staff alerts to a team chat.
    public enum Preset: String, Sendable, CaseIterable {
        case generic, twilio, messenger, chat
    }

    public struct Settings: Sendable {
        public var preset: Preset
        public var url: String
        /// The sender number for Twilio.
        public var from: String?
        /// Basic auth (Twilio: account SID and auth token).
        public var username: String?
        public var password: String?
        /// Bearer token (generic) or page access token (Messenger).
        public var token: String?
        /// Standard Webhooks signing secrets (generic): every one signs, for rotation.
        public var signingSecrets: [WebhookSignature.Secret]
        public var concurrency: Int
        public var timeoutSeconds: Int
        /// Twilio: where to report the message's status (`receipts.url` + `/twilio`); each
        /// message adds its key, so the callback names it.
        public var statusCallback: String?

        public init(preset: Preset, url: String, from: String? = nil, username: String? = nil, password: String? = nil,
                    token: String? = nil, signingSecrets: [WebhookSignature.Secret] = [], concurrency: Int = 8, timeoutSeconds: Int = 10) {
            self.preset = preset
            self.url = url
            self.from = from
            self.username = username
            self.password = password
            self.token = token
            self.signingSecrets = signingSecrets
            self.concurrency = concurrency
            self.timeoutSeconds = timeoutSeconds
        }
    }

    let settings: Settings
    public let workers: CurlWorkerPool

    public init(settings: Settings, label: String) throws {
        self.settings = settings
        workers = try CurlWorkerPool(label: label, connections: settings.concurrency, perWorker: Self.connectionsPerWorker)
    }

    /// Connections one libcurl multi handle drives. An HTTP transfer never blocks its handle, but
    /// a worker's queue runs on one thread at a time: past eight connections a second worker lets
    /// libcurl's and the kernel's socket work use the other core (scenario 4: about 8% more
    /// webhooks a second with 16 connections; four workers of four cost more CPU for nothing).
    static let connectionsPerWorker = 8

    public func start(_ message: OutgoingMessage, mayGiveBack: Bool, then done: @escaping @Sendable (DeliveryOutcome?) -> Void) {
        let request: CurlRequest
        do {
            request = try WebhookRequest.build(message, settings: settings)
        } catch {
            return done(.permanent(reason: "cannot build the request body: \(error)"))
        }
        let date = message.date
        workers.start(request, mayGiveBack: mayGiveBack) { response in
            done(response.givenBack ? nil : Self.classify(response, now: date))
        }
    }

    /// 2xx sent; 408, 429, 5xx and no answer at all are worth retrying (honouring Retry-After);
    /// 410 means the endpoint is gone; redirects and other 4xx are refusals.
    static func classify(_ response: CurlResponse, now: Date) -> DeliveryOutcome {
        let status = response.responseCode
        guard response.succeeded, status > 0 else {
            return .transient(reason: "HTTP request failed: \(response.errorMessage)")
        }
        switch status {
        case 200...299: return .sent(detail: "HTTP \(status)")
        case 408, 429, 500...599:
            // Only here: looking through every response's headers was 1% of a webhook's CPU.
            let retryAfter = response.header("retry-after").flatMap { Self.retryAfter($0, now: now) }
            return .transient(reason: "HTTP \(status)", retryAfter: retryAfter)
        case 410: return .gone(reason: "HTTP 410 Gone: the endpoint says it no longer exists")
        case 300...399:
            return .permanent(reason: "HTTP \(status): redirect to \(response.header("location") ?? "?") not followed; fix the URL")
        default: return .permanent(reason: "HTTP \(status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
    }

    /// `Retry-After` as seconds or as an HTTP date (RFC 9110).
    static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        if let seconds = TimeInterval(value.trimmingCharacters(in: .whitespaces)) { return max(0, seconds) }
        guard let date = try? Date(value, strategy: httpDate) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    private static let httpDate = Date.ParseStrategy(
        format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
        locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT") ?? .gmt)
}
