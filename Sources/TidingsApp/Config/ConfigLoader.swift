import Configuration
import Foundation
import Logging
import SystemPackage
import TidingsCore
import TidingsDelivery
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
        config.durability = try choice("database.synchronous", ["full": .full, "normal": .normal], default: config.durability)
        config.logLevel = try choice("log.level", Dictionary(uniqueKeysWithValues: Logger.Level.allCases.map { ($0.rawValue, $0) }),
                                     default: config.logLevel)
        config.shop = ShopInfo(name: text("shop.name") ?? config.shop.name, email: text("shop.email") ?? config.shop.email,
                               url: text("shop.url") ?? config.shop.url, phone: text("shop.phone") ?? config.shop.phone)
        config.templatesDirectory = text("templates.directory") ?? config.templatesDirectory
        config.workflowsPath = text("workflows.path") ?? config.workflowsPath
        config.pipelineBatchSize = try number("pipeline.batch_size", default: config.pipelineBatchSize, range: 1...100_000)
        config.pipelinePollInterval = .milliseconds(try number("pipeline.poll_interval_ms", default: 50, range: 1...10_000))
        config.dispatcherLeaseSeconds = Double(try number("dispatcher.lease_seconds", default: 120, range: 5...86_400))
        config.dispatcherPollInterval = .milliseconds(try number("dispatcher.poll_interval_ms", default: 250, range: 1...60_000))
        config.spoolDirectory = text("spool.directory") ?? config.spoolDirectory
        let from = text("smtp.from") ?? "\(config.shop.name) <\(config.shop.email)>"
        guard let sender = MIMEMessage.Mailbox(parsing: from) else {
            throw ConfigError(.invalidValue, "smtp.from must be an address such as \"Shop <orders@shop.example>\", got \"\(from)\"")
        }
        config.sender = sender
        for channel in Channel.allCases {
            config.channels[channel] = try channelConfig(channel, sender: sender)
        }
        var promises = ServicePromises.standard
        for kind in ["complaint", "query", "return", "feedback"] {
            let standard = promises.promise(for: kind)
            promises.byKind[kind] = ServicePromises.Promise(
                firstResponseHours: try number("promises.\(kind).first_response_hours", default: standard.firstResponseHours, range: 1...8760),
                resolutionDays: try number("promises.\(kind).resolution_days", default: standard.resolutionDays, range: 1...365))
        }
        config.promises = promises
        return config
    }

    func channelConfig(_ channel: Channel, sender: MIMEMessage.Mailbox) throws -> ChannelConfig {
        let name = channel.rawValue
        let concurrency = try number("\(name).concurrency", default: 8, range: 1...256)
        let standard = RetryPolicy()
        let retry = RetryPolicy(
            maxAttempts: try number("\(name).retry.max_attempts", default: standard.maxAttempts, range: 1...100),
            initialDelay: Double(try number("\(name).retry.initial_delay_seconds", default: Int(standard.initialDelay), range: 1...86_400)),
            maximumDelay: Double(try number("\(name).retry.max_delay_seconds", default: Int(standard.maximumDelay), range: 1...604_800)))
        let transport = text("\(name).transport") ?? "spool"
        let route: ChannelConfig.Route
        switch (channel, transport) {
        case (_, "spool"):
            route = .spool
        case (.email, "smtp"):
            guard let url = text("smtp.url"), url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw ConfigError(.missingValue, "email.transport is smtp, so smtp.url must be set to smtp://host:port or smtps://host:port")
            }
            route = .smtp(SMTPTransport.Settings(
                url: url, from: sender,
                tls: try choice("smtp.starttls", ["required": .required, "opportunistic": .opportunistic, "off": .off], default: .required),
                username: text("smtp.username"), password: try secret("smtp.password"), concurrency: concurrency,
                timeoutSeconds: try number("smtp.timeout_seconds", default: 30, range: 1...600)))
        case (.sms, "webhook"), (.messenger, "webhook"):
            let prefix = "\(name).webhook"
            let presets = Dictionary(uniqueKeysWithValues: WebhookTransport.Preset.allCases.map { ($0.rawValue, $0) })
            let preset = try choice("\(prefix).preset", presets, default: channel == .sms ? .twilio : .messenger)
            guard let url = text("\(prefix).url"), let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
                throw ConfigError(.missingValue, "\(name).transport is webhook, so \(prefix).url must be an http(s) URL")
            }
            let from = text("\(prefix).from")
            if preset == .twilio, from == nil {
                throw ConfigError(.missingValue, "\(prefix).from must be the Twilio sender number (E.164) for the twilio preset")
            }
            route = .webhook(WebhookTransport.Settings(
                preset: preset, url: url, from: from, username: text("\(prefix).username"), password: try secret("\(prefix).password"),
                token: try secret("\(prefix).token"), concurrency: concurrency,
                timeoutSeconds: try number("\(prefix).timeout_seconds", default: 10, range: 1...600)))
        default:
            let allowed = channel == .email ? "smtp or spool" : "webhook or spool"
            throw ConfigError(.invalidValue, "\(name).transport must be \(allowed), got \"\(transport)\"")
        }
        return ChannelConfig(route: route, concurrency: concurrency, retry: retry)
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
