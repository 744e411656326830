import Foundation
import Logging
import TidingsCore
import TidingsDelivery
import TidingsStore

/// Configuration, workflows and templates, loaded and checked together: what every command
/// but `append` and `status` needs.
public struct Runtime: Sendable {
    public var config: TidingsConfig
    public var workflows: WorkflowSet
    public var catalog: TemplateCatalog
    public var engine: WorkflowEngine

    public static func load(configPath: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Runtime {
        try load(config: await ConfigLoader.load(path: configPath, environment: environment))
    }

    /// The workflows and templates a configuration names, loaded and checked.
    public static func load(config: TidingsConfig) throws -> Runtime {
        let workflows = try WorkflowLoader.load(path: config.workflowsPath)
        let catalog = try TemplateLoader.load(directory: config.templatesDirectory, fallbackLocale: workflows.fallbackLocale)
        let engine = WorkflowEngine(workflows: workflows, shop: config.shop, promises: config.promises, staffRecipient: config.staffRecipient,
                                    customerWait: config.parkWindow, channelsOff: config.channelsOff,
                                    retry: config.channels.mapValues(\.retry))
        return Runtime(config: config, workflows: workflows, catalog: catalog, engine: engine)
    }

    /// Builds each channel's transport as configured.
    public func channelSetups() throws -> [Channel: Dispatcher.ChannelSetup] {
        var setups: [Channel: Dispatcher.ChannelSetup] = [:]
        for (channel, channelConfig) in config.channels {
            let transport: any Transport
            switch channelConfig.route {
            case .off:
                transport = OffTransport(channel: channel)
            case .spool:
                transport = try SpoolTransport(directory: SpoolTransport.directory(of: channel, in: config.spoolDirectory), from: config.sender, options: config.emailOptions)
            case .smtp(let settings):
                transport = try SMTPTransport(settings: settings)
            case .webhook(let settings):
                transport = try WebhookTransport(settings: settings, label: channel.rawValue)
            }
            setups[channel] = Dispatcher.ChannelSetup(
                transport: transport, endpoint: channelConfig.endpoint, retry: channelConfig.retry,
                gate: ChannelGate(concurrency: channelConfig.concurrency, queued: transport.holds, breaker: channelConfig.breaker, limiter: channelConfig.rateLimit))
        }
        return setups
    }
}
