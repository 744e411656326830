import Foundation

extension Bench {
    /// 7. 100,000 open orders in one region, each customer reachable by SMS only; the daemon
    /// has caught up and sent everything before. One `shipping.disruption_announced` for the
    /// region is posted; measured from its 2xx to every order's alert being in the outbox (the
    /// fan-out), and on to every disruption SMS being recorded as accepted by nginx (204), which
    /// a poll of the outbox sees. Sending runs during the fan-out, as it would in production; when
    /// the first alert and half of them were sent says how soon customers hear.
    func disruption() async throws -> [Outcome] {
        let total = count(100_000)
        let nginx = try await Nginx.start(work: work)
        var tidings = try tidings("7-disruption")
        tidings.sms(webhookPort: nginx.port, concurrency: 16)
        let factory = EventFactory(run: "s7")
        var file = try NDJSONFile(tidings.work.appendingPathComponent("orders.ndjson"))
        for o in 0..<total {
            file.add(factory.customerRegistered("c\(o)", preference: .smsOnly))
            file.add(factory.orderPlaced("o\(o)", customer: "c\(o)", region: "North West"))
        }
        try file.close()
        _ = try await tidings.append(file.url, name: "append-orders")

        let (daemon, port) = try await tidings.serve()
        let progress = Progress(pool: try tidings.reader())
        let (fanout, seconds, spread, cpu) = try await stopping(daemon) {
            try await stopping(nginx.child) {
                try await progress.caughtUp(timeout: 600)
                try await progress.wait(timeout: 600, "the daemon to send what the orders caused") { try !progress.unsent(channel: "sms") }
                let announcement = [LoadRequest(body: Array(factory.disruption(region: "North West").utf8))]
                let start = ContinuousClock.now
                let wallStart = Date()
                let (daemonBefore, machineBefore) = (daemon.cpuSeconds(), CPUUse.machineBusySeconds())
                func used() -> CPUUse { CPUUse(daemons: daemon.cpuSeconds() - daemonBefore, machine: CPUUse.machineBusySeconds() - machineBefore) }
                let posted = try await HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents+json", total: 1,
                                                make: { announcement[$0] }).closedLoop(connections: 1)
                guard posted.accepted == 1 else { throw BenchError("the announcement was refused: \(posted.firstRefusal ?? "")") }
                // Once the checkpoint passes the announcement, its orders are queued in `fanout`;
                // the fan-out is done when the last chunk of them has its outbox rows.
                try await progress.caughtUp(timeout: 600)
                try await progress.wait(timeout: 600, "the disruption's fan-out") { try !progress.fanoutPending() }
                let fanout = (ContinuousClock.now - start).seconds
                let fanoutCPU = used()
                try await progress.wait(timeout: 600, "\(total) disruption alerts sent") {
                    try !progress.unsent(channel: "sms")
                        && progress.messages(state: "sent", channel: "sms", workflow: "disruption_alert") >= total
                }
                let seconds = (ContinuousClock.now - start).seconds
                return (fanout, seconds, try progress.sentSpread(workflow: "disruption_alert", after: wallStart), (fanoutCPU, used()))
            }
        }
        return [Outcome(scenario: "7 disruption fan-out, \(total) orders", figure: fanout, unit: "s", target: "<= 2 s", pass: fanout <= 2,
                        details: cpu.0.perItem(total).merging(["orders": Double(total), "orders_per_s": Double(total) / fanout]) { $1 }),
                Outcome(scenario: "7 disruption, \(total) orders", figure: seconds, unit: "s", target: "<= 10 s", pass: seconds <= 10,
                        details: cpu.1.perItem(total).merging(["orders": Double(total), "alerts_per_s": Double(total) / seconds,
                                                               "first_sent_s": spread.first, "half_sent_s": spread.half]) { $1 })]
    }
}
