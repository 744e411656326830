import Foundation
import PostgresNIO
import TidingsCore

extension PostgresOutbox {
    /// How long a dispatcher that stopped saying it is alive still counts for a share of the
    /// rate limits: a few of its `Dispatcher.shareInterval`s, so one slow write does not
    /// double the others' shares, and a dead instance's share is taken over soon.
    static let aliveFor = 5

    /// Records this dispatcher as alive (or gone), its breakers' pauses and resumptions, and
    /// answers with the live dispatchers and the channels paused now. Liveness is judged by the
    /// database's clock, so that instances whose clocks differ (or are simulated) agree.
    public func shareFlow(_ report: FlowReport, owner: String, now: Date) async throws -> SharedFlow? {
        try await backend.transaction("sharing rate limits and pauses with the other instances") { connection in
            if report.leaving {
                try await connection.run("DELETE FROM dispatchers WHERE owner = \(owner)", logger: logger)
            } else {
                try await connection.run("""
                    INSERT INTO dispatchers (owner, seen_at) VALUES (\(owner), now())
                    ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at
                    """, logger: logger)
            }
            try await connection.run("""
                DELETE FROM dispatchers WHERE seen_at < now() - make_interval(secs => \(Self.aliveFor * 10))
                """, logger: logger)
            for (channel, pause) in report.pauses.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                try await connection.run("""
                    INSERT INTO channel_pauses (channel, paused_until, trips)
                    VALUES (\(channel.rawValue), \(pause.until.timeIntervalSince1970), \(pause.trips))
                    ON CONFLICT (channel) DO UPDATE SET paused_until = greatest(channel_pauses.paused_until, excluded.paused_until),
                        trips = greatest(channel_pauses.trips, excluded.trips)
                    """, logger: logger)
            }
            // A probe that got through ends the pause, unless another instance paused the
            // channel again past now (its own probe failed meanwhile).
            let resumed = report.resumed.map(\.rawValue).sorted()
            if !resumed.isEmpty {
                try await connection.run("""
                    DELETE FROM channel_pauses WHERE channel = ANY(\(resumed)) AND paused_until <= \(now.timeIntervalSince1970)
                    """, logger: logger)
            }
            var instances = 1
            for try await count in try await connection.run("""
                SELECT count(*) FROM dispatchers WHERE seen_at >= now() - make_interval(secs => \(Self.aliveFor))
                """, logger: logger).decode(Int.self) {
                instances = max(1, count)
            }
            var pauses: [Channel: ChannelPause] = [:]
            for try await (name, until, trips) in try await connection.run("""
                SELECT channel, paused_until, trips FROM channel_pauses WHERE paused_until > \(now.timeIntervalSince1970)
                """, logger: logger).decode((String, Double, Int).self) {
                guard let channel = Channel(rawValue: name) else { continue }  // a newer Tidings's channel: not ours to pause
                pauses[channel] = ChannelPause(until: Date(timeIntervalSince1970: until), trips: trips)
            }
            return SharedFlow(instances: instances, pauses: pauses)
        }
    }

    /// How many dispatchers said they were alive in the last `aliveFor` seconds: whether any
    /// instance runs (with sending on).
    public func liveDispatchers() async throws -> Int {
        try await backend.connection("counting the running instances") { connection in
            for try await count in try await connection.run("""
                SELECT count(*) FROM dispatchers WHERE seen_at >= now() - make_interval(secs => \(Self.aliveFor))
                """, logger: logger).decode(Int.self) { return count }
            return 0
        }
    }
}
