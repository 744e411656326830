import Foundation
import Hummingbird
import Metrics
import NIOCore
import TidingsCore
import TidingsStore

extension API {
    /// `GET /metrics`: Prometheus text. The outbox and pipeline gauges are read from the
    /// database at scrape time; counters and histograms come from swift-metrics.
    func metrics() async throws -> Response {
        let status = try await environment.status.status(now: environment.clock())
        Gauge(label: "tidings_log_head").record(status.head)
        Gauge(label: "tidings_pipeline_position").record(status.checkpoint)
        Gauge(label: "tidings_pipeline_lag").record(status.lag)
        // A `tidings rebuild` in another process, while its progress still moves (wall time:
        // it writes the wall time). rate(tidings_rebuild_events[1m]) is its speed.
        let rebuild = (try? environment.store?.rebuildStanding()).flatMap { Date().timeIntervalSince($0.updatedAt) < 30 ? $0 : nil }
        Gauge(label: "tidings_rebuild_running").record(rebuild == nil ? 0 : 1)
        Gauge(label: "tidings_rebuild_events").record(rebuild?.events ?? 0)
        Gauge(label: "tidings_rebuild_position").record(rebuild?.position ?? 0)
        Gauge(label: "tidings_rebuild_target").record(rebuild?.target ?? 0)
        for kind in HeldEvent.Kind.allCases {
            Gauge(label: "tidings_events_held", dimensions: [("kind", kind.rawValue)]).record(status.held[kind] ?? 0)
        }
        for state in MessageState.allCases {
            for channel in Channel.allCases.map(\.rawValue) + ["-"] {
                let count = status.outbox[state]?[channel] ?? 0
                guard count > 0 || channel != "-" else { continue }
                Gauge(label: "tidings_outbox_messages", dimensions: [("state", state.rawValue), ("channel", channel)]).record(count)
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: environment.registry.emitToBuffer())))
    }

    /// `GET /readyz`: the database takes writes, the pipeline runs, and it is not too far behind.
    func readiness() async throws -> Response {
        var problems: [Problem.Issue] = []
        let writable = await environment.status.isWritable()
        if !writable { problems.append(Problem.Issue(field: "database", message: "cannot start a write transaction")) }
        // Wall time, like the heartbeat: a simulated clock says nothing about a stuck loop.
        let heartbeat = environment.pipelineHeartbeat()
        let silent = Date().timeIntervalSince(heartbeat)
        if silent > 10 { problems.append(Problem.Issue(field: "pipeline", message: "no progress for \(Int(silent)) s (a batch keeps failing, or the loop is stuck)")) }
        // A database that takes no writes answers no questions either (a network database's
        // pool would wait for a connection as long as it is gone): not asked.
        let status = writable ? try? await environment.status.status(now: environment.clock()) : nil
        let lag = status?.lag ?? 0
        if lag > environment.settings.readyMaxLag {
            problems.append(Problem.Issue(field: "lag", message: "\(lag) events behind, over the limit of \(environment.settings.readyMaxLag)"))
        }
        let quarantined = status?.quarantined ?? 0
        if quarantined > environment.settings.readyMaxQuarantined {
            problems.append(Problem.Issue(field: "quarantine", message: """
                \(quarantined) events quarantined, over the limit of \(environment.settings.readyMaxQuarantined); see `tidings events quarantined`
                """))
        }
        guard problems.isEmpty else {
            throw Problem(.serviceUnavailable, "Not Ready", detail: problems.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
                          issues: problems)
        }
        return try json(["status": "ready", "lag": .number(Double(lag)), "quarantined": .number(Double(quarantined))])
    }

    /// `GET /`: the operators' status page, rendered on the server.
    func statusPage() async throws -> Response {
        let now = environment.clock()
        let reads = environment.reads
        let snapshot = StatusPage.Snapshot(
            now: now, status: try await environment.status.status(now: now),
            lastHour: try await reads.throughput(since: now.addingTimeInterval(-3_600)),
            dead: try await reads.messages(state: .dead, customerID: nil, subjectID: nil, id: nil, after: nil, limit: 50),
            atRisk: StatusPage.atRisk(try await reads.openTickets(limit: 500), now: now),
            quarantined: try await reads.heldEvents(kind: .quarantined, limit: 50), delivery: try await reads.deliveryRates())
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.render(snapshot))))
    }
}
