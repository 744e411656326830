import Foundation
import Testing
import TidingsCore
import TidingsDelivery
@testable import TidingsApp

@Suite("Configuration")
struct ConfigTests {
    func write(_ yaml: String) throws -> String {
        let directory = try Paths.temporaryDirectory("config")
        let path = directory.appendingPathComponent("tidings.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theShippedDevelopmentConfigSpoolsEverything() async throws {
        let config = try await ConfigLoader.load(path: Paths.root.appendingPathComponent("config/tidings.yaml").path, environment: [:])
        #expect(config.databasePath == "var/tidings.sqlite")
        #expect(config.durability == .full)
        #expect(config.channels.values.allSatisfy { $0.routeName == "spool" })
        #expect(config.sender.address == "orders@northwind.example")
    }

    @Test func environmentVariablesOverrideTheFileAndSecretsComeFromFiles() async throws {
        let path = try write("email:\n  transport: spool\nsmtp:\n  url: smtp://mail.example:25\n")
        let secret = try Paths.temporaryDirectory("secret").appendingPathComponent("pw")
        try "s3cret\n".write(to: secret, atomically: true, encoding: .utf8)
        let config = try await ConfigLoader.load(path: path, environment: [
            "EMAIL_TRANSPORT": "smtp", "SMTP_URL": "smtp://127.0.0.1:2525", "SMTP_STARTTLS": "off", "SMTP_PASSWORD_FILE": secret.path,
            "SMTP_USERNAME": "tidings", "EMAIL_CONCURRENCY": "3",
        ])
        guard case .smtp(let settings) = config.channels[.email]?.route else {
            Issue.record("email should be smtp")
            return
        }
        #expect(settings.url == "smtp://127.0.0.1:2525")
        #expect(settings.tls == .off)
        #expect(settings.password == "s3cret")
        #expect(settings.username == "tidings")
        #expect(config.channels[.email]?.concurrency == 3)
    }

    @Test func emailKeepsSixteenSessionsUnlessToldOtherwise() async throws {
        let config = try await ConfigLoader.load(path: try write("email:\n  transport: spool\n"), environment: [:])
        #expect(config.channels[.email]?.concurrency == 16)
        #expect(config.channels[.sms]?.concurrency == 8)
        #expect(config.channels[.messenger]?.concurrency == 8)
    }

    @Test func sendingCanBeSwitchedOffAndNothingElseMeansOff() async throws {
        let path = try write("dispatcher:\n  enabled: true\n")
        #expect(try await ConfigLoader.load(path: path, environment: [:]).dispatchEnabled)
        #expect(try await !ConfigLoader.load(path: path, environment: ["DISPATCHER_ENABLED": "false"]).dispatchEnabled)
        await #expect(throws: ConfigError.self) { try await ConfigLoader.load(path: path, environment: ["DISPATCHER_ENABLED": "no"]) }
    }

    @Test func receiptSettingsNameTheirSecretsAndAddress() async throws {
        let path = Paths.root.appendingPathComponent("config/tidings.yaml").path
        let twilio = ["SMS_TRANSPORT": "webhook", "SMS_WEBHOOK_URL": "https://api.twilio.example/Messages.json", "SMS_WEBHOOK_FROM": "+447700900000",
                      "SMS_WEBHOOK_USERNAME": "SK0123", "SMS_WEBHOOK_PASSWORD": "api-key-secret-0123"]
        #expect(try await ConfigLoader.load(path: path, environment: twilio).http.receipts.twilioAuthToken == "api-key-secret-0123")
        let withToken = twilio.merging(["RECEIPTS_TWILIO_AUTH_TOKEN": "account-auth-token"]) { $1 }
        #expect(try await ConfigLoader.load(path: path, environment: withToken).http.receipts.twilioAuthToken == "account-auth-token",
                "an API key's secret does not sign callbacks: the account's token does")
        let secret = "whsec_" + Data(repeating: 5, count: 32).base64EncodedString()
        let signed = try await ConfigLoader.load(path: path, environment: ["RECEIPTS_SECRET": secret, "RECEIPTS_URL": "https://shop.example/v1/receipts"])
        #expect(signed.http.receipts.secrets.count == 1 && signed.http.receipts.messageIDs != nil && signed.emailOptions.messageIDs != nil)
        for broken in [["RECEIPTS_SECRET": "whsec_short"], ["RECEIPTS_URL": "http://shop.example/v1/receipts"],
                       ["RECEIPTS_URL": "https://shop.example/v1/receipts/"]] {
            await #expect(throws: ConfigError.self, "\(broken)") { try await ConfigLoader.load(path: path, environment: broken) }
        }
    }

    @Test func unsubscribeLinksNeedAnHTTPSAddressAndASecretTogether() async throws {
        let path = Paths.root.appendingPathComponent("config/tidings.yaml").path
        #expect(try await ConfigLoader.load(path: path, environment: [:]).emailOptions.unsubscribe == nil)
        let both = ["UNSUBSCRIBE_URL": "https://shop.example/v1/unsubscribe", "UNSUBSCRIBE_SECRET": "0123456789abcdef"]
        #expect(try await ConfigLoader.load(path: path, environment: both).http.unsubscribe?.baseURL == "https://shop.example/v1/unsubscribe")
        for broken in [["UNSUBSCRIBE_URL": "https://shop.example/v1/unsubscribe"], ["UNSUBSCRIBE_SECRET": "0123456789abcdef"],
                       both.merging(["UNSUBSCRIBE_URL": "http://shop.example/v1/unsubscribe"]) { $1 },
                       both.merging(["UNSUBSCRIBE_SECRET": "short"]) { $1 }] {
            await #expect(throws: ConfigError.self, "\(broken)") { try await ConfigLoader.load(path: path, environment: broken) }
        }
        #expect(try await ConfigLoader.load(path: path, environment: [:]).emailOptions.replyTo?.pattern == "Northwind Help <help+{ref}@northwind.example>")
        await #expect(throws: ConfigError.self) { try await ConfigLoader.load(path: path, environment: ["EMAIL_REPLY_TO": "nobody"]) }
    }

    @Test func systemdCredentialsAreReadByName() async throws {
        let path = try write("sms:\n  transport: webhook\n  webhook:\n    preset: twilio\n    url: https://api.twilio.test/M.json\n    from: \"+15005550006\"\n")
        let credentials = try Paths.temporaryDirectory("credentials")
        try "tw-token".write(to: credentials.appendingPathComponent("sms-webhook-password"), atomically: true, encoding: .utf8)
        let config = try await ConfigLoader.load(path: path, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        guard case .webhook(let settings) = config.channels[.sms]?.route else {
            Issue.record("sms should be a webhook")
            return
        }
        #expect(settings.preset == .twilio)
        #expect(settings.password == "tw-token")
    }

    @Test(arguments: [
        ("email:\n  transport: pigeon\n", "email.transport must be smtp, spool or off"),
        ("email:\n  concurrency: lots\n", "email.concurrency must be a whole number"),
        ("email:\n  transport: smtp\n", "smtp.url must be set"),
        ("smtp:\n  from: not an address\n", "smtp.from must be an address"),
        ("sms:\n  transport: webhook\n  webhook:\n    url: https://x.test/\n", "sms.webhook.from must be"),
        ("log:\n  level: loud\n", "log.level must be one of"),
        ("sms:\n  retry:\n    schedule: 5s soon\n", "sms.retry.schedule must list delays"),
        ("email:\n  retry:\n    give_up_after: forever\n", "email.retry.give_up_after must be a duration"),
        ("email:\n  retry:\n    initial_delay_seconds: 60\n", "email.retry.initial_delay_seconds is now email.retry.initial_delay"),
        ("sms:\n  rate_limit: fast\n", "sms.rate_limit must be messages per second"),
        ("sms:\n  rate_burst: 5\n", "sms.rate_burst needs sms.rate_limit"),
        ("sms:\n  retry:\n    schedule: 5s\n    give_up_after: 1d\n", "has no effect"),
        ("email:\n  retry:\n    initial_delay: inf\n", "email.retry.initial_delay must be a duration"),
        ("dispatcher:\n  lease_seconds: 20\n", "dispatcher.lease_seconds must be at least"),
        ("http:\n  public_origin: https://tidings.example/console\n", "http.public_origin must be the scheme, host and port"),
        ("http:\n  public_origin: ftp://tidings.example\n", "http.public_origin must be"),
        ("sms:\n  transport: webhook\n  webhook:\n    preset: generic\n    url: https://x.test/\n    secret: hunter2\n", "sms.webhook.secret must be one or more whsec_"),
    ])
    func badSettingsAreNamed(yaml: String, message: String) async throws {
        let path = try write(yaml)
        await #expect {
            try await ConfigLoader.load(path: path, environment: [:])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func channelsHaveSchedulesLimitsBreakersAndSigningSecrets() async throws {
        let first = "whsec_" + Data(repeating: 1, count: 24).base64EncodedString()
        let second = "whsec_" + Data(repeating: 2, count: 32).base64EncodedString()
        let path = try write("""
            email:
              retry:
                initial_delay: 1m
                give_up_after: 2d
            sms:
              transport: webhook
              rate_limit: 0.5
              circuit:
                failures: 3
                cool_down: 1m
              webhook:
                preset: generic
                url: https://hooks.example/t
            """)
        let config = try await ConfigLoader.load(path: path, environment: ["SMS_WEBHOOK_SECRET": "\(first) \(second)"])
        let email = try #require(config.channels[.email])
        #expect(email.retry == RetryPolicy(backoff: .exponential(initial: 60, maximum: 3_600), giveUpAfter: 2 * 86_400))
        let sms = try #require(config.channels[.sms])
        #expect(sms.retry == .webhook)
        #expect(sms.rateLimit?.rate == 0.5)
        #expect(sms.breaker.threshold == 3)
        #expect(sms.breaker.coolDown == 60)
        #expect(sms.endpoint == "https://hooks.example/t")
        guard case .webhook(let settings) = sms.route else {
            Issue.record("sms should be a webhook")
            return
        }
        #expect(settings.signingSecrets.count == 2)
        #expect(config.channels[.messenger]?.rateLimit == nil)
    }

    @Test func aMissingFileSaysWhereItLooked() async {
        await #expect {
            try await ConfigLoader.load(path: "/nonexistent/tidings.yaml", environment: [:])
        } throws: { "\($0)".contains("no configuration file at /nonexistent/tidings.yaml") }
    }

    @Test func workflowsAreCheckedAgainstTheCatalogue() throws {
        let good = try WorkflowLoader.parse("""
            workflows:
              - id: shipped
                "on": order.shipped
                when: { order.status: shipped }
                category: order_status
                channels: [preferred, email]
                template: order_shipped
            """)
        #expect(good.workflows.first?.channels == [.preferred, .fixed(.email)])
        #expect(good.workflows.first?.when == ["order.status": ["shipped"]])
        for (yaml, message) in [
            ("workflows:\n  - {id: a, \"on\": order.teleported, category: order_status, channels: [email], template: t}", "unknown event type"),
            ("workflows:\n  - {id: a, \"on\": order.shipped, category: spam, channels: [email], template: t}", "category must be one of"),
            ("workflows:\n  - {id: a, \"on\": order.shipped, category: order_status, channels: [fax], template: t}", "unknown channel \"fax\""),
        ] {
            #expect { try WorkflowLoader.parse(yaml) } throws: { "\($0)".contains(message) }
        }
    }
}
