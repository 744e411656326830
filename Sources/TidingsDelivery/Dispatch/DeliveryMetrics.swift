import Foundation
import Metrics
import TidingsCore

/// The dispatcher's counters and gauges, by channel and outcome. Labels follow Prometheus
/// naming; the factory is injectable so tests can read them.
struct DeliveryMetrics: Sendable {
    let factory: any MetricsFactory

    /// One settled attempt: what the server said, and where that left the message.
    func settled(_ record: DeliveryRecord, attempted: Bool, now: Date) {
        let channel = record.message.channel.rawValue
        if attempted {
            Counter(label: "tidings_delivery_attempts_total", dimensions: [("channel", channel), ("outcome", record.outcome.label)],
                    factory: factory).increment()
        }
        let next = record.next
        switch next.state {
        case .sent:
            Counter(label: "tidings_messages_sent_total", dimensions: [("channel", channel)], factory: factory).increment()
            if let eventAt = record.message.eventAt {
                // Clamped to a year: a simulated clock set far ahead must not overflow the nanoseconds.
                let nanoseconds = Int64(min(max(0, now.timeIntervalSince(eventAt)), 31_536_000) * 1e9)
                Metrics.Timer(label: "tidings_event_to_sent_seconds", dimensions: [("channel", channel)], factory: factory)
                    .recordNanoseconds(nanoseconds)
                if record.message.category == "acknowledgement" {
                    Metrics.Timer(label: "tidings_ticket_acknowledgement_seconds", dimensions: [], factory: factory).recordNanoseconds(nanoseconds)
                }
            }
        case .retrying:
            Counter(label: "tidings_message_retries_total", dimensions: [("channel", channel), ("outcome", record.outcome.label)],
                    factory: factory).increment()
        case .dead:
            Counter(label: "tidings_messages_dead_total", dimensions: [("channel", channel), ("outcome", record.outcome.label)],
                    factory: factory).increment()
        case .pending where next.route != record.message.progress.route:
            Counter(label: "tidings_message_fallbacks_total", dimensions: [("channel", channel), ("to", next.route.channel.rawValue)],
                    factory: factory).increment()
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
