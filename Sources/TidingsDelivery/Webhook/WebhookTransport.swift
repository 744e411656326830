import Foundation
import TidingsCore

/// Posts messages to an HTTP endpoint: a generic JSON webhook, Twilio's Messages API, or the
/// Messenger Send API. 2xx is success; redirects are not followed.
public final class WebhookTransport: Transport {
    public enum Preset: String, Sendable, CaseIterable {
        case generic, twilio, messenger
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
        public var concurrency: Int
        public var timeoutSeconds: Int

        public init(preset: Preset, url: String, from: String? = nil, username: String? = nil, password: String? = nil,
                    token: String? = nil, concurrency: Int = 8, timeoutSeconds: Int = 10) {
            self.preset = preset
            self.url = url
            self.from = from
            self.username = username
            self.password = password
            self.token = token
            self.concurrency = concurrency
            self.timeoutSeconds = timeoutSeconds
        }
    }

    let settings: Settings
    let worker: CurlWorker

    public init(settings: Settings, label: String) throws {
        self.settings = settings
        worker = try CurlWorker(label: label, maxConnectionsPerHost: settings.concurrency)
    }

    public func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
        let request = WebhookRequest.build(message, settings: settings)
        return Self.classify(await worker.perform(request))
    }

    public func close() { worker.close() }

    /// 2xx sent; 408, 429, 5xx and no answer at all are worth retrying (honouring Retry-After);
    /// redirects and other 4xx are refusals.
    static func classify(_ response: CurlResponse) -> DeliveryOutcome {
        let status = response.responseCode
        guard response.succeeded, status > 0 else {
            return .transient(reason: "HTTP request failed: \(response.errorMessage)")
        }
        let retryAfter = response.header("retry-after").flatMap(TimeInterval.init)
        switch status {
        case 200...299: return .sent(detail: "HTTP \(status)")
        case 408, 429, 500...599: return .transient(reason: "HTTP \(status)", retryAfter: retryAfter)
        case 300...399:
            return .permanent(reason: "HTTP \(status): redirect to \(response.header("location") ?? "?") not followed; fix the URL")
        default: return .permanent(reason: "HTTP \(status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
    }
}
