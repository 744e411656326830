import Foundation
import TidingsCore
import TidingsDelivery

extension Settings {
    /// One channel's transport, limits, retry schedule and circuit breaker.
    func channelConfig(_ channel: Channel, sender: MIMEMessage.Mailbox, emailOptions: EmailOptions) throws -> ChannelConfig {
        let name = channel.rawValue
        // An SMTP session sends one message at a time and waits on the relay's answers, so email
        // keeps more of them open than a webhook channel keeps transfers in flight.
        let concurrency = try number("\(name).concurrency", default: channel == .email ? 16 : 8, range: 1...256)
        let transport = text("\(name).transport") ?? "spool"
        let route: ChannelConfig.Route
        switch (channel, transport) {
        case (_, "off"):
            route = .off
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
                timeoutSeconds: try number("smtp.timeout_seconds", default: 30, range: 1...600),
                options: emailOptions))
        case (.sms, "webhook"), (.messenger, "webhook"), (.staff, "webhook"):
            route = .webhook(try webhookSettings(channel, concurrency: concurrency))
        default:
            let allowed = channel == .email ? "smtp, spool or off" : "webhook, spool or off"
            throw ConfigError(.invalidValue, "\(name).transport must be \(allowed), got \"\(transport)\"")
        }
        var rateLimit: RateLimiter?
        if text("\(name).rate_limit") == nil, text("\(name).rate_burst") != nil {
            throw ConfigError(.invalidValue, "\(name).rate_burst needs \(name).rate_limit (messages per second) to mean anything")
        }
        if let raw = text("\(name).rate_limit") {
            guard let perSecond = Double(raw), perSecond > 0, perSecond <= 100_000 else {
                throw ConfigError(.invalidValue, "\(name).rate_limit must be messages per second, above 0 (0.5 is one every two seconds), got \"\(raw)\"")
            }
            rateLimit = RateLimiter(perSecond: perSecond, burst: try number("\(name).rate_burst", default: max(1, Int(perSecond.rounded(.up))),
                                                                            range: 1...100_000))
        }
        let breaker = CircuitBreaker(
            threshold: try number("\(name).circuit.failures", default: 5, range: 1...10_000),
            coolDown: try duration("\(name).circuit.cool_down", default: 30, range: 1...86_400) ?? 30,
            maximumCoolDown: try duration("\(name).circuit.max_cool_down", default: 600, range: 1...86_400) ?? 600)
        return ChannelConfig(route: route, concurrency: concurrency, retry: try retryPolicy(channel), rateLimit: rateLimit, breaker: breaker)
    }

    /// `retry.schedule` lists the delays outright; `initial_delay`, `max_delay` and `give_up_after`
    /// shape a doubling backoff instead. Email defaults to a mail queue's five days, webhooks to the
    /// Standard Webhooks schedule.
    func retryPolicy(_ channel: Channel) throws -> RetryPolicy {
        let prefix = "\(channel.rawValue).retry"
        for old in ["initial_delay_seconds", "max_delay_seconds"] where text("\(prefix).\(old)") != nil {
            let new = old.replacingOccurrences(of: "_seconds", with: "")
            throw ConfigError(.invalidValue, "\(prefix).\(old) is now \(prefix).\(new), a duration such as 30s or 1h")
        }
        var policy = channel == .email ? RetryPolicy.email : RetryPolicy.webhook
        let shaping = ["initial_delay", "max_delay", "give_up_after"].filter { text("\(prefix).\($0)") != nil }
        if text("\(prefix).schedule") != nil, let first = shaping.first {
            throw ConfigError(.invalidValue, "\(prefix).schedule lists the delays outright, so \(prefix).\(first) has no effect; remove one of them")
        }
        if let raw = text("\(prefix).schedule") {
            guard let delays = DurationText.parseList(raw), delays.allSatisfy({ $0 >= 1 && $0 <= 30 * 86_400 }) else {
                throw ConfigError(.invalidValue, "\(prefix).schedule must list delays such as \"5s 5m 30m 2h\", each from 1s to 30d, got \"\(raw)\"")
            }
            policy = RetryPolicy(backoff: .schedule(delays))
        } else if !shaping.isEmpty {
            let standard = RetryPolicy.email
            guard case .exponential(let initial, let maximum) = standard.backoff else { return standard }
            policy = RetryPolicy(
                backoff: .exponential(initial: try duration("\(prefix).initial_delay", default: initial, range: 1...86_400) ?? initial,
                                      maximum: try duration("\(prefix).max_delay", default: maximum, range: 1...604_800) ?? maximum),
                giveUpAfter: try duration("\(prefix).give_up_after", default: standard.giveUpAfter, range: 1...(60 * 86_400)))
        }
        if text("\(prefix).max_attempts") != nil {
            policy.maxAttempts = try number("\(prefix).max_attempts", default: 1, range: 1...1_000)
        }
        return policy
    }

    func webhookSettings(_ channel: Channel, concurrency: Int) throws -> WebhookTransport.Settings {
        let name = channel.rawValue
        let prefix = "\(name).webhook"
        let presets = Dictionary(uniqueKeysWithValues: WebhookTransport.Preset.allCases.map { ($0.rawValue, $0) })
        let standard: WebhookTransport.Preset = switch channel {
        case .sms: .twilio
        case .staff: .chat
        default: .messenger
        }
        let preset = try choice("\(prefix).preset", presets, default: standard)
        // A secret: a team chat's webhook URL carries its token (url_file, or a credential).
        guard let url = try secret("\(prefix).url"), let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
            throw ConfigError(.missingValue, "\(name).transport is webhook, so \(prefix).url must be an http(s) URL")
        }
        let from = text("\(prefix).from")
        if preset == .twilio, from == nil {
            throw ConfigError(.missingValue, "\(prefix).from must be the Twilio sender number (E.164) for the twilio preset")
        }
        let secrets = try signingSecrets("\(prefix).secret")
        if !secrets.isEmpty {
            if preset != .generic {
                throw ConfigError(.invalidValue, "\(prefix).secret signs generic webhooks only; the \(preset.rawValue) preset authenticates with its own credentials")
            }
        }
        return WebhookTransport.Settings(
            preset: preset, url: url, from: from, username: text("\(prefix).username"), password: try secret("\(prefix).password"),
            token: try secret("\(prefix).token"), signingSecrets: secrets, concurrency: concurrency,
            timeoutSeconds: try number("\(prefix).timeout_seconds", default: 10, range: 1...600))
    }

    /// Standard Webhooks `whsec_<base64>` secrets, separated by spaces: every one signs (or
    /// verifies), so a secret can be rotated without a gap.
    func signingSecrets(_ key: String) throws -> [WebhookSignature.Secret] {
        guard let raw = try secret(key) else { return [] }
        return try raw.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map { part in
            guard let parsed = WebhookSignature.Secret(String(part)) else {
                throw ConfigError(.invalidValue, "\(key) must be one or more whsec_<base64> secrets separated by spaces; one of them is not")
            }
            return parsed
        }
    }
}
