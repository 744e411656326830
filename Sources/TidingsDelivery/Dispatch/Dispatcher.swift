import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TidingsCore
import TidingsStore

/// Claims due messages from the outbox, renders them and hands them to their channel's
/// transport, keeping up to each channel's limit in flight; results are recorded in batches.
/// On graceful shutdown it stops claiming, lets sends in flight finish and records them.
public final class Dispatcher: Service {
    public struct ChannelSetup: Sendable {
        public var transport: any Transport
        public var concurrency: Int
        public var retry: RetryPolicy

        public init(transport: any Transport, concurrency: Int, retry: RetryPolicy) {
            self.transport = transport
            self.concurrency = concurrency
            self.retry = retry
        }
    }

    let store: Store
    let catalog: TemplateCatalog
    let channels: [Channel: ChannelSetup]
    let lease: TimeInterval
    let pollInterval: Duration
    let logger: Logger
    let clock: @Sendable () -> Date
    /// Ring to make the dispatcher look for new messages now.
    public let doorbell = Doorbell()
    private let finished = Mutex<[DeliveryRecord]>([])

    public init(store: Store, catalog: TemplateCatalog, channels: [Channel: ChannelSetup], lease: TimeInterval = 120,
                pollInterval: Duration = .milliseconds(250), logger: Logger, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.catalog = catalog
        self.channels = channels
        self.lease = lease
        self.pollInterval = pollInterval
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        let stopping = Atomic<Bool>(false)
        try await withGracefulShutdownHandler {
            let unrecorded = try await withThrowingDiscardingTaskGroup(returning: [DeliveryRecord].self) { group in
                var inFlight: [Channel: Int] = [:]
                var unrecorded: [DeliveryRecord] = []
                while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    let finished = takeFinished()
                    for record in finished { inFlight[record.message.channel, default: 1] -= 1 }
                    unrecorded += finished
                    var room: [Channel: Int] = [:]
                    for (channel, setup) in channels { room[channel] = max(0, setup.concurrency - inFlight[channel, default: 0]) }
                    do {
                        // Results and new claims share one transaction: one fsync per turn, not per message.
                        let claimed = try store.settleAndClaim(unrecorded, room: room, now: clock(), lease: lease)
                        unrecorded.removeAll()
                        for message in claimed {
                            guard let setup = channels[message.channel] else { continue }
                            inFlight[message.channel, default: 0] += 1
                            group.addTask { await self.deliver(message, setup) }
                        }
                    } catch {
                        // Kept for the next turn; if the process dies first, the leases expire and
                        // the messages are sent again with the same key.
                        logger.error("cannot record results or claim messages", metadata: ["error": "\(error)"])
                    }
                    await doorbell.wait(timeout: pollInterval)
                }
                return unrecorded
            }
            // Every send has finished: record what is left.
            let rest = unrecorded + takeFinished()
            do {
                try store.record(rest, now: clock())
            } catch {
                logger.error("cannot record delivery results at shutdown", metadata: ["count": "\(rest.count)", "error": "\(error)"])
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
        for (_, setup) in channels { setup.transport.close() }
        logger.info("dispatcher stopped")
    }

    /// Takes the results that finished since the last turn.
    private func takeFinished() -> [DeliveryRecord] {
        finished.withLock { records in defer { records.removeAll() }; return records }
    }

    /// Renders and sends one message, then settles it with the outbox state machine.
    private func deliver(_ message: OutboxMessage, _ setup: ChannelSetup) async {
        let outcome: DeliveryOutcome
        do {
            let content = try catalog.render(template: message.template, channel: message.channel, locale: message.locale,
                                             context: message.context)
            let outgoing = OutgoingMessage(
                key: message.key, channel: message.channel, workflow: message.workflow, category: message.category,
                customerID: message.customerID, subjectID: message.subjectID, recipient: message.recipient,
                recipientName: message.context.value(atPath: "customer.name")?.stringValue, content: content, date: clock())
            outcome = await setup.transport.send(outgoing)
        } catch {
            outcome = .permanent(reason: "cannot render: \(error)")
        }
        let next = OutboxStateMachine.settle(message.progress, outcome: outcome, now: clock(), policy: setup.retry,
                                             jitter: Double.random(in: 0...1))
        let channel = message.channel.rawValue
        Counter(label: "tidings_delivery_attempts_total", dimensions: [("channel", channel), ("outcome", outcome.label)]).increment()
        if next.state == .dead { Counter(label: "tidings_messages_dead_total", dimensions: [("channel", channel)]).increment() }
        var metadata: Logger.Metadata = ["message": "\(message.id)", "key": "\(message.key)", "channel": "\(channel)",
                                         "workflow": "\(message.workflow)", "outcome": "\(outcome.label)", "state": "\(next.state.rawValue)"]
        if case .sent = outcome {
            logger.info("message sent", metadata: metadata)
        } else {
            metadata["reason"] = "\(outcome.detail)"
            if next.state == .retrying { metadata["retry_at"] = "\(Timestamp.format(next.dueAt))" }
            if next.route != message.progress.route { metadata["fallback"] = "\(next.route.channel.rawValue)" }
            logger.warning("message not sent", metadata: metadata)
        }
        finished.withLock { $0.append(DeliveryRecord(message: message, outcome: outcome, next: next)) }
        doorbell.ring()
    }
}
