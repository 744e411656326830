import Foundation
import Logging
import TidingsCore
import TidingsDelivery
import TidingsHTTP
import TidingsPostgres
import TidingsStore

/// Everything `tidings.yaml` (and its environment overrides) says, as plain values with
/// defaults. Loading lives in `ConfigLoader`; this is only the result.
public struct TidingsConfig: Sendable {
    /// The SQLite file, when `database` is SQLite (the embedded default).
    public var databasePath = "var/tidings.sqlite"
    public var database = DatabaseChoice.sqlite(path: "var/tidings.sqlite")
    public var durability = Store.Durability.full
    public var logLevel = Logger.Level.info
    public var shop = ShopInfo(name: "Tidings Shop", email: "help@shop.invalid", url: "https://shop.invalid", phone: "")
    public var templatesDirectory = "config/templates"
    public var workflowsPath = "config/workflows.yaml"
    public var pipelineBatchSize = 500
    public var pipelinePollInterval = Duration.milliseconds(50)
    public var dispatcherLeaseSeconds = 120.0
    public var dispatcherPollInterval = Duration.milliseconds(250)
    /// Off holds every send (the outbox still fills): for catching up a backlog, or a benchmark.
    public var dispatchEnabled = true
    public var spoolDirectory = "var/spool"
    public var sender = MIMEMessage.Mailbox(name: "Tidings", address: "tidings@shop.invalid")
    public var channels: [Channel: ChannelConfig] = [:]
    public var promises = ServicePromises.standard
    public var http = HTTPSettings()
    /// Who staff alerts are addressed to (a team or room name, for the record and the payload).
    public var staffRecipient = "staff"
    /// The system clock, or a simulated time in the database (demos and rehearsals).
    public var clockSource = DaemonClock.Source.system
    /// Orders told about a disruption per pipeline transaction.
    public var fanoutBatch = 1000
    /// How long a message waits for its customer, and an event for its order or ticket, when
    /// another producer's event that creates them has not arrived yet.
    public var parkWindow: TimeInterval = 3_600
    /// `email.reply_to` and `unsubscribe.*`: what every email carries beyond its content.
    public var emailOptions = EmailOptions()
    /// How long the contents of ended messages are kept (`outbox.retention`); nil keeps them.
    public var retention: TimeInterval?

    public init() {}

    /// Channels the shop does not use (`<channel>.transport: off`).
    public var channelsOff: Set<Channel> {
        Set(channels.compactMap { channel, config in
            if case .off = config.route { return channel }
            return nil
        })
    }
}

/// How one channel delivers, and how hard it tries.
public struct ChannelConfig: Sendable {
    public enum Route: Sendable {
        /// The shop does not use this channel: nothing is routed to it, and a message already
        /// queued for it fails over to its next channel at once.
        case off
        case spool
        case smtp(SMTPTransport.Settings)
        case webhook(WebhookTransport.Settings)
    }

    public var route: Route
    public var concurrency: Int
    public var retry: RetryPolicy
    /// Messages per second, with bursts (a gateway's own limit); nil for none.
    public var rateLimit: RateLimiter?
    public var breaker: CircuitBreaker

    /// The longest one send can take: its timeout plus the connect timeout.
    public var sendTimeoutSeconds: Int {
        switch route {
        case .off, .spool: return 5
        case .smtp(let settings): return settings.timeoutSeconds + 5
        case .webhook(let settings): return settings.timeoutSeconds + 5
        }
    }

    /// Where messages go: the URL, or the spool directory's name. A 410 disables this endpoint.
    public var endpoint: String {
        switch route {
        case .off: return "off"
        case .spool: return "spool"
        case .smtp(let settings): return settings.url
        case .webhook(let settings): return settings.url
        }
    }

    public var routeName: String {
        switch route {
        case .off: return "off"
        case .spool: return "spool"
        case .smtp: return "smtp"
        case .webhook(let settings): return "webhook (\(settings.preset.rawValue))"
        }
    }
}

/// Errors of the configuration domain; each names the setting and says what would be valid.
public struct ConfigError: DomainError {
    public enum Code: String, Sendable {
        case unreadable = "config.unreadable"
        case invalidValue = "config.invalid_value"
        case missingValue = "config.missing_value"
        case workflows = "config.workflows"
        case templates = "config.templates"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
