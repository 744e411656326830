import Configuration
import Foundation
import Logging
import SystemPackage
import TidingsCore
import TidingsDelivery
import TidingsHTTP
import TidingsPostgres
import TidingsStore

/// Reads `tidings.yaml` with swift-configuration. Environment variables override the file
/// (`smtp.url` is `SMTP_URL`), systemd credentials in `$CREDENTIALS_DIRECTORY` override both
/// for secrets (`smtp.password` is the file `smtp-password`), and any secret `x` may instead be
/// given as `x_file`, a path to read it from.
public enum ConfigLoader {
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> TidingsConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(.unreadable, "no configuration file at \(path); pass --config PATH or set TIDINGS_CONFIG")
        }
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment)]
        do {
            if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty {
                providers.append(try await DirectoryFilesProvider(directoryPath: FilePath(credentials), allowMissing: true))
            }
            providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
        } catch {
            throw ConfigError(.unreadable, "cannot read \(path): \(error)")
        }
        return try Settings(ConfigReader(providers: providers)).config()
    }
}

/// Turns raw settings into a validated `TidingsConfig`. Every value is read as text and parsed
/// here, so a bad value is reported with its key rather than silently replaced by a default.
struct Settings {
    let reader: ConfigReader

    init(_ reader: ConfigReader) {
        self.reader = reader
    }

    func config() throws -> TidingsConfig {
        var config = TidingsConfig()
        config.databasePath = text("database.path") ?? config.databasePath
        config.database = try database(path: config.databasePath)
        if case .sqlite(let path) = config.database { config.databasePath = path }
        config.durability = try choice("database.synchronous", ["full": .full, "normal": .normal], default: config.durability)
        config.logLevel = try choice("log.level", Dictionary(uniqueKeysWithValues: Logger.Level.allCases.map { ($0.rawValue, $0) }),
                                     default: config.logLevel)
        config.shop = ShopInfo(name: text("shop.name") ?? config.shop.name, email: text("shop.email") ?? config.shop.email,
                               url: text("shop.url") ?? config.shop.url, phone: text("shop.phone") ?? config.shop.phone,
                               complaintReferral: text("shop.complaint_referral") ?? "")
        config.templatesDirectory = text("templates.directory") ?? config.templatesDirectory
        config.workflowsPath = text("workflows.path") ?? config.workflowsPath
        config.pipelineBatchSize = try number("pipeline.batch_size", default: config.pipelineBatchSize, range: 1...100_000)
        config.pipelinePollInterval = .milliseconds(try number("pipeline.poll_interval_ms", default: 50, range: 1...10_000))
        config.dispatcherLeaseSeconds = Double(try number("dispatcher.lease_seconds", default: 120, range: 5...86_400))
        config.dispatcherPollInterval = .milliseconds(try number("dispatcher.poll_interval_ms", default: 250, range: 1...60_000))
        config.dispatchEnabled = try choice("dispatcher.enabled", ["true": true, "false": false], default: true)
        config.spoolDirectory = text("spool.directory") ?? config.spoolDirectory
        let from = text("smtp.from") ?? "\(config.shop.name) <\(config.shop.email)>"
        guard let sender = MIMEMessage.Mailbox(parsing: from) else {
            throw ConfigError(.invalidValue, "smtp.from must be an address such as \"Shop <orders@shop.example>\", got \"\(from)\"")
        }
        config.sender = sender
        if let pattern = text("email.reply_to") {
            guard let replyTo = ReplyAddress(pattern: pattern) else {
                throw ConfigError(.invalidValue, """
                    email.reply_to must be an address such as "Shop Help <help+{ref}@shop.example>" ({ref} becomes the order or \
                    ticket id), got "\(pattern)"
                    """)
            }
            config.emailOptions.replyTo = replyTo
        }
        config.emailOptions.unsubscribe = try unsubscribeLinks()
        config.emailOptions.messageIDs = MessageIDSigner(secrets: try signingSecrets("receipts.secret"))
        for channel in Channel.allCases {
            config.channels[channel] = try channelConfig(channel, sender: sender, emailOptions: config.emailOptions)
        }
        // A lease must outlast the slowest send, or a live send could be claimed a second time.
        let slowest = config.channels.values.map(\.sendTimeoutSeconds).max() ?? 0
        if config.dispatcherLeaseSeconds < Double(slowest + 30) {
            throw ConfigError(.invalidValue, "dispatcher.lease_seconds must be at least \(slowest + 30): the slowest send may take \(slowest) s (its timeout and connect time), plus a margin")
        }
        config.promises = try promises()
        config.staffRecipient = text("staff.recipient") ?? config.staffRecipient
        config.clockSource = try choice("clock.source", Dictionary(uniqueKeysWithValues: DaemonClock.Source.allCases.map { ($0.rawValue, $0) }),
                                        default: config.clockSource)
        config.fanoutBatch = try number("pipeline.fanout_batch", default: config.fanoutBatch, range: 1...100_000)
        config.parkWindow = try duration("pipeline.park_window", default: config.parkWindow, range: 1...(30 * 86_400)) ?? config.parkWindow
        if text("outbox.retention")?.lowercased() != "off" {
            config.retention = try duration("outbox.retention", default: nil, range: Retention.minimum...(10 * 366 * 86_400))
        }
        config.http = try httpSettings()
        config.http.unsubscribe = config.emailOptions.unsubscribe
        config.http.receipts = try receiptSettings(channels: config.channels)
        if let base = config.http.receipts.publicURL, case .webhook(var sms)? = config.channels[.sms]?.route, sms.preset == .twilio {
            // Twilio reports each message's fate to the URL it was sent with.
            sms.statusCallback = base + "/twilio"
            config.channels[.sms]?.route = .webhook(sms)
        }
        return config
    }

    /// `unsubscribe.url` and `unsubscribe.secret`, both or neither.
    func unsubscribeLinks() throws -> UnsubscribeLinks? {
        let url = text("unsubscribe.url"), key = try secret("unsubscribe.secret")
        guard url != nil || key != nil else { return nil }
        guard let url, let key else {
            throw ConfigError(.missingValue, "unsubscribe.url and unsubscribe.secret go together: set both for one-click unsubscribe links, or neither")
        }
        guard let links = UnsubscribeLinks(baseURL: url, secret: key) else {
            throw ConfigError(.invalidValue, """
                unsubscribe.url must be the https address of /v1/unsubscribe as customers reach it, without a query \
                (such as https://shop.example/tidings/v1/unsubscribe), and unsubscribe.secret at least 16 characters; got "\(url)"
                """)
        }
        return links
    }

    /// A setting as text; empty counts as unset (YAML `key:` with no value).
    func text(_ key: String) -> String? {
        guard let value = reader.string(forKey: ConfigKey(key))?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value != "~" else {
            return nil
        }
        return value
    }

    /// A secret given directly or through `<key>_file`; never logged.
    func secret(_ key: String) throws -> String? {
        if let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty { return value }
        guard let path = text("\(key)_file") else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ConfigError(.unreadable, "\(key)_file names \(path), which cannot be read: \(error.localizedDescription)")
        }
    }

    /// A duration such as `90s`, `5m`, `2h` or `3d` (a bare number is seconds).
    func duration(_ key: String, default value: TimeInterval?, range: ClosedRange<TimeInterval>) throws -> TimeInterval? {
        guard let raw = text(key) else { return value }
        guard let parsed = DurationText.parse(raw), range.contains(parsed) else {
            throw ConfigError(.invalidValue, "\(key) must be a duration such as 90s, 5m, 2h or 3d, from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound)), got \"\(raw)\"")
        }
        return parsed
    }

    func number(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = text(key) else { return value }
        guard let parsed = Int(raw), range.contains(parsed) else {
            throw ConfigError(.invalidValue, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
        }
        return parsed
    }

    func choice<T>(_ key: String, _ options: [String: T], default value: T) throws -> T {
        guard let raw = text(key) else { return value }
        guard let chosen = options[raw.lowercased()] else {
            throw ConfigError(.invalidValue, "\(key) must be one of \(options.keys.sorted().joined(separator: ", ")), got \"\(raw)\"")
        }
        return chosen
    }
}
