import Foundation

extension Bench {
    /// 9. The daemon on PostgreSQL, with one instance and with three on the same database (the
    /// same machine: two cores for all of them and the server), beside pgbench's simple-update
    /// TPS from the same run: the pipeline's catch-up of a backlog, single-event ingest from 64
    /// clients (split across the instances), and SMS webhooks to nginx. On two cores three
    /// instances cannot be faster than one; the target is that they cost at most 15%.
    func postgres() async throws -> [Outcome] {
        let cluster = try await PostgresCluster.start(repository: repository, work: work)
        return try await stopping(cluster.child) {
            let tps = try cluster.pgbenchTPS(clients: 8, transactions: max(500, count(5_000)))
            var outcomes = [Outcome(scenario: "9 pgbench -N, 8 clients (reference)", figure: tps, unit: "TPS", target: "-", pass: true)]
            var catchUp: [Measured] = []
            var ingest: [Measured] = []
            var sending: [Measured] = []
            for instances in [1, 3] {
                catchUp.append(try await postgresCatchUp(cluster, instances: instances))
                ingest.append(try await postgresIngest(cluster, instances: instances))
                sending.append(try await postgresWebhooks(cluster, instances: instances))
                for measured in [catchUp.last, ingest.last, sending.last].compactMap({ $0 }) { print("      \(measured)") }
            }
            for (name, unit, runs) in [("catch-up", "events/s", catchUp), ("ingest, 1 event/request", "events/s", ingest),
                                       ("webhooks to nginx", "msg/s", sending)] {
                let (one, three) = (runs[0], runs[1])
                outcomes.append(Outcome(scenario: "9 PostgreSQL \(name), 3 instances", figure: three.rate, unit: unit, reference: one.rate,
                                        referenceTool: "1 instance", target: ">= 0.85 x 1 instance", pass: three.rate >= 0.85 * one.rate,
                                        details: one.details(prefix: "one_") .merging(three.details(prefix: "three_")) { $1 }
                                            .merging(["pgbench_tps": tps]) { $1 }))
            }
            return outcomes
        }
    }

    /// A Tidings on a new database of the cluster.
    func tidings(_ scenario: String, on cluster: PostgresCluster) throws -> (Tidings, PostgresProgress) {
        let database = scenario.replacingOccurrences(of: "-", with: "_")
        try cluster.createDatabase(database)
        var tidings = try tidings("9-\(scenario)")
        tidings.environment["DATABASE_URL"] = cluster.url(database)
        tidings.environment["DATABASE_PASSWORD"] = cluster.password
        return (tidings, PostgresProgress(cluster: cluster, database: database))
    }

    /// Starts `count` daemons on one database; stops them all after `body`. Also returns the
    /// CPU seconds the daemons spent together and the whole machine's busy CPU seconds (the
    /// daemons, the server, nginx, this suite and the kernel), from their start to the end of `body`.
    func serving<T>(_ tidings: Tidings, instances: Int, dispatch: Bool, name: String,
                    _ body: ([Int]) async throws -> T) async throws -> (T, CPUUse) {
        var daemons: [(child: Child, port: Int)] = []
        let before = CPUUse.machineBusySeconds()
        do {
            for index in 0..<instances { daemons.append(try await tidings.serve(name: "\(name)-\(index)", dispatch: dispatch)) }
            let result = try await body(daemons.map(\.port))
            let use = CPUUse(daemons: daemons.reduce(0) { $0 + $1.child.cpuSeconds() }, machine: CPUUse.machineBusySeconds() - before)
            for daemon in daemons { await daemon.child.stop() }
            return (result, use)
        } catch {
            for daemon in daemons { await daemon.child.stop() }
            throw error
        }
    }

    /// The backlog appended while no daemon ran, then projected by `instances` daemons (one at
    /// a time holds the pipeline's lock): events per second from their start to the checkpoint
    /// at the head.
    func postgresCatchUp(_ cluster: PostgresCluster, instances: Int) async throws -> Measured {
        let (tidings, progress) = try tidings("catch-up-\(instances)", on: cluster)
        var file = try NDJSONFile(tidings.work.appendingPathComponent("backlog.ndjson"))
        EventFactory(run: "s9c").lifecycle(count: count(10_000), spread: 1_000) { file.add($0) }
        try file.close()
        _ = try await tidings.append(file.url, name: "append-backlog")
        let start = ContinuousClock.now
        let (seconds, cpu) = try await serving(tidings, instances: instances, dispatch: false, name: "serve-catch-up") { _ in
            try await progress.caughtUp(timeout: 1_200)
            return (ContinuousClock.now - start).seconds
        }
        return Measured(what: "catch-up", instances: instances, count: file.count, seconds: seconds, cpu: cpu)
    }

    /// Single-event requests from 64 keep-alive clients, split evenly across the instances:
    /// events per second, every one a 2xx and in the log.
    func postgresIngest(_ cluster: PostgresCluster, instances: Int) async throws -> Measured {
        let (tidings, progress) = try tidings("ingest-\(instances)", on: cluster)
        var generated: [[UInt8]] = []
        EventFactory(run: "s9i\(instances)").lifecycle(count: count(30_000) / 10, spread: 1_000) { generated.append(Array($0.utf8)) }
        let events = generated
        let (result, cpu) = try await serving(tidings, instances: instances, dispatch: false, name: "serve-ingest") { ports in
            let share = events.count / ports.count
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: LoadResult.self) { group in
                for (index, port) in ports.enumerated() {
                    let first = index * share
                    let total = index == ports.count - 1 ? events.count - first : share
                    group.addTask {
                        try await HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents+json", total: total,
                                           make: { LoadRequest(body: events[first + $0]) }).closedLoop(connections: 64 / ports.count)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            return (results, (ContinuousClock.now - start).seconds)
        }
        let (results, seconds) = result
        if let refused = results.first(where: { $0.refused > 0 }) {
            throw BenchError("\(refused.refused) requests refused; first: \(refused.firstRefusal ?? "")")
        }
        let accepted = results.reduce(0) { $0 + $1.accepted }
        let stored = try progress.head()
        guard stored == Int64(accepted), accepted == events.count else {
            throw BenchError("\(accepted) of \(events.count) events accepted, \(stored) in the log")
        }
        return Measured(what: "ingest", instances: instances, count: accepted, seconds: seconds, cpu: cpu)
    }

    /// The outbox filled with complaint acknowledgements by SMS (projected with sending off),
    /// then sent as signed webhooks to nginx by `instances` daemons, 16 in flight each: messages
    /// per second from their start until every message is recorded as sent.
    func postgresWebhooks(_ cluster: PostgresCluster, instances: Int) async throws -> Measured {
        let total = count(20_000)
        let nginx = try await Nginx.start(work: work.appendingPathComponent("9-nginx-\(instances)"))
        return try await stopping(nginx.child) {
            var (tidings, progress) = try tidings("webhooks-\(instances)", on: cluster)
            tidings.sms(webhookPort: nginx.port, concurrency: 16)
            let factory = EventFactory(run: "s9w")
            let customers = max(1, total / 10)
            var file = try NDJSONFile(tidings.work.appendingPathComponent("events.ndjson"))
            for c in 0..<customers { file.add(factory.customerRegistered("c\(c)", preference: .sms)) }
            for t in 0..<total { file.add(factory.ticketOpened("t\(t)", customer: "c\(t % customers)")) }
            try file.close()
            _ = try await tidings.append(file.url, name: "append-events")
            _ = try await serving(tidings, instances: 1, dispatch: false, name: "serve-projecting") { _ in try await progress.caughtUp(timeout: 1_200) }
            let queued = try progress.messages(state: "pending", channel: "sms")
            guard queued == Int64(total) else { throw BenchError("expected \(total) SMS messages in the outbox, found \(queued)") }

            let start = ContinuousClock.now
            let (seconds, cpu) = try await serving(tidings, instances: instances, dispatch: true, name: "serve-sending") { _ in
                try await progress.wait(timeout: 1_200, "\(total) SMS messages sent") { try progress.unsent(channel: "sms") == 0 }
                return (ContinuousClock.now - start).seconds
            }
            let sent = try progress.messages(state: "sent", channel: "sms")
            guard sent == Int64(total) else { throw BenchError("\(sent) of \(total) messages recorded as sent") }
            return Measured(what: "webhooks", instances: instances, count: total, seconds: seconds, cpu: cpu)
        }
    }
}

/// One PostgreSQL run: how many in how long, and the CPU it took.
struct Measured: CustomStringConvertible {
    var what: String
    var instances: Int
    var count: Int
    var seconds: Double
    var cpu: CPUUse

    var rate: Double { Double(count) / seconds }

    /// The CPU per item, in microseconds: the daemons', and the rest of the machine's (mostly
    /// the PostgreSQL server).
    var daemonMicroseconds: Double { cpu.daemons / Double(count) * 1e6 }
    var restMicroseconds: Double { max(0, cpu.machine - cpu.daemons) / Double(count) * 1e6 }

    func details(prefix: String) -> [String: Double] {
        [prefix + "rate": rate, prefix + "seconds": seconds, prefix + "daemon_cpu_us_each": daemonMicroseconds,
         prefix + "rest_cpu_us_each": restMicroseconds]
    }

    var description: String {
        String(format: "%@, %d instance(s): %d in %.1f s (%.0f/s); CPU per item %.0f us in the daemons, %.0f us elsewhere (server, kernel)",
               what, instances, count, seconds, rate, daemonMicroseconds, restMicroseconds)
    }
}
