import Foundation
import Metrics
import Synchronization
import TidingsCore

/// The dispatcher's counters and gauges, by channel and outcome. Labels follow Prometheus
/// naming; the factory is injectable so tests can read them.
struct DeliveryMetrics: Sendable {
    let factory: any MetricsFactory
    /// Each counter and timer made once: asking the factory at every send (a lock and a lookup
    /// in the registry, per metric) showed in the profile of a send.
    private let handles = Handles()
    /// What every send touches, per configured channel, made up front: looked up under one
    /// lock at each send, they were a contended lock between the curl workers' threads.
    private let everySend: [Channel: EverySend]
    private let acknowledgement: Metrics.Timer

    init(factory: any MetricsFactory, channels: some Sequence<Channel>) {
        self.factory = factory
        var everySend: [Channel: EverySend] = [:]
        for channel in channels {
            everySend[channel] = EverySend(channel, counter: { Counter(label: $0, dimensions: $1, factory: factory) },
                                           timer: { Metrics.Timer(label: $0, dimensions: $1, factory: factory) })
        }
        self.everySend = everySend
        acknowledgement = Metrics.Timer(label: "tidings_ticket_acknowledgement_seconds", dimensions: [], factory: factory)
    }

    private struct EverySend: Sendable {
        /// By `DeliveryOutcome.index`.
        var attempts: [Counter]
        var sent: Counter
        var eventToSent: Metrics.Timer

        init(_ channel: Channel, counter: (String, [(String, String)]) -> Counter, timer: (String, [(String, String)]) -> Metrics.Timer) {
            attempts = DeliveryOutcome.labels.map { counter("tidings_delivery_attempts_total", [("channel", channel.rawValue), ("outcome", $0)]) }
            sent = counter("tidings_messages_sent_total", [("channel", channel.rawValue)])
            eventToSent = timer("tidings_event_to_sent_seconds", [("channel", channel.rawValue)])
        }
    }

    /// A channel's every-send metrics: made up front for a configured one, and for any other
    /// (which no claim should bring) through the lazily made handles.
    private func everySend(_ channel: Channel) -> EverySend {
        everySend[channel] ?? EverySend(channel, counter: counter, timer: timer)
    }

    private final class Handles: Sendable {
        struct Key: Hashable {
            var label: String
            var values: [String]
        }

        let counters = Mutex<[Key: Counter]>([:])
        let timers = Mutex<[Key: Metrics.Timer]>([:])
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        Self.made(label, dimensions, in: handles.counters) { Counter(label: label, dimensions: dimensions, factory: factory) }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        Self.made(label, dimensions, in: handles.timers) { Metrics.Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    /// The metric of this label and these dimension values, made the first time it is asked for.
    private static func made<Metric>(_ label: String, _ dimensions: [(String, String)], in made: borrowing Mutex<[Handles.Key: Metric]>,
                                     _ make: () -> Metric) -> Metric {
        let key = Handles.Key(label: label, values: dimensions.map(\.1))
        return made.withLock { metrics in
            if let metric = metrics[key] { return metric }
            let metric = make()
            metrics[key] = metric
            return metric
        }
    }

    /// One settled attempt: what the server said, and where that left the message.
    func settled(_ record: DeliveryRecord, attempted: Bool, now: Date) {
        let channel = record.message.channel.rawValue
        let every = everySend(record.message.channel)
        if attempted { every.attempts[record.outcome.index].increment() }
        let next = record.next
        switch next.state {
        case .sent:
            every.sent.increment()
            if let eventAt = record.message.eventAt {
                // Clamped to a year: a simulated clock set far ahead must not overflow the nanoseconds.
                let nanoseconds = Int64(min(max(0, now.timeIntervalSince(eventAt)), 31_536_000) * 1e9)
                every.eventToSent.recordNanoseconds(nanoseconds)
                if record.message.category == "acknowledgement" {
                    acknowledgement.recordNanoseconds(nanoseconds)
                }
            }
        case .retrying:
            counter("tidings_message_retries_total", [("channel", channel), ("outcome", record.outcome.label)]).increment()
        case .dead:
            counter("tidings_messages_dead_total", [("channel", channel), ("outcome", record.outcome.label)]).increment()
        case .pending where next.route != record.message.progress.route:
            counter("tidings_message_fallbacks_total", [("channel", channel), ("to", next.route.channel.rawValue)]).increment()
        default:
            break
        }
    }

    /// 1 while the channel's circuit breaker holds its messages back.
    func paused(_ channel: Channel, _ paused: Bool) {
        Gauge(label: "tidings_channel_paused", dimensions: [("channel", channel.rawValue)], factory: factory).record(paused ? 1 : 0)
    }

    /// 1 while the channel's endpoint is disabled after a 410.
    func endpoint(_ channel: Channel, disabled: Bool) {
        Gauge(label: "tidings_endpoint_disabled", dimensions: [("channel", channel.rawValue)], factory: factory).record(disabled ? 1 : 0)
    }
}
