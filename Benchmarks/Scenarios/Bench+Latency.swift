import Foundation
import Histogram

extension Bench {
    /// 6. A steady 2,000 events/s over HTTP for 30 s (a busy shop: customers registering,
    /// orders placed, shipped, out for delivery and delivered, tickets opened, replied and
    /// resolved), with email to a recording SMTP server and SMS to nginx, sending on. For every
    /// complaint, the time from its `ticket.opened` being accepted (the 2xx reaching the client)
    /// to its acknowledgement being accepted by the SMTP server (the 250 after DATA), both on
    /// this process's monotonic clock, recorded in an HdrHistogram.
    func latency() async throws -> [Outcome] {
        let rate = 2_000.0
        let total = count(60_000)
        let complaints = total / 10
        let recorder = SMTPRecorder(prefix: "lat-", workflow: "complaint_acknowledgement")
        let smtpPort = try await recorder.start()
        let nginx = try await Nginx.start(work: work)
        var tidings = try tidings("6-latency")
        tidings.email(smtpPort: smtpPort, concurrency: 16)
        tidings.sms(webhookPort: nginx.port, concurrency: 16)
        let factory = EventFactory(run: "s6")

        // The complainants are customers already: registered before the measured minute.
        var file = try NDJSONFile(tidings.work.appendingPathComponent("customers.ndjson"))
        for c in 0..<complaints { file.add(factory.customerRegistered("lat-\(c)", email: "lat-\(c)@bench.example")) }
        try file.close()
        _ = try await tidings.append(file.url, name: "append-customers")
        let requests = Self.mix(factory, total: total)

        let (daemon, port) = try await tidings.serve()
        let accepted = AcceptTimes()
        let outcome = try await stopping(daemon) {
            try await stopping(nginx.child) {
                try await Progress(pool: try tidings.reader()).caughtUp(timeout: 120)
                let load = HTTPLoad(port: port, token: tidings.token, contentType: "application/cloudevents+json", total: requests.count,
                                    make: { requests[$0] }, onAccepted: { accepted.times[$0] = $1 })
                let result = try await load.openLoop(rate: rate, connections: 32)
                if result.refused > 0 { throw BenchError("\(result.refused) requests refused; first: \(result.firstRefusal ?? "")") }
                // The last acknowledgements may still be on their way.
                let deadline = ContinuousClock.now + .seconds(30)
                while recorder.accepted.withLockedValue({ $0.count }) < complaints, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                return Self.latencies(sent: accepted.times, received: recorder.accepted.withLockedValue { $0 }, expected: complaints,
                                      seconds: result.seconds, events: requests.count)
            }
        }
        await recorder.stop()
        return [outcome]
    }

    static func latencies(sent: [String: UInt64], received: [String: UInt64], expected: Int, seconds: Double, events: Int) -> Outcome {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var missing = 0
        for (recipient, acceptedAt) in sent {
            guard let arrived = received[recipient] else { missing += 1; continue }
            // Microseconds; an acknowledgement can beat the HTTP answer back to the client.
            _ = histogram.record(arrived > acceptedAt ? (arrived - acceptedAt) / 1_000 : 0)
        }
        let p50 = Double(histogram.valueAtPercentile(50)) / 1_000
        let p99 = Double(histogram.valueAtPercentile(99)) / 1_000
        return Outcome(scenario: "6 latency at 2000 events/s", figure: p99, unit: "ms p99", target: "p50 <= 5 ms, p99 <= 25 ms",
                       pass: missing == 0 && sent.count == expected && p50 <= 5 && p99 <= 25,
                       details: ["p50_ms": p50, "p90_ms": Double(histogram.valueAtPercentile(90)) / 1_000, "p99_ms": p99,
                                 "p999_ms": Double(histogram.valueAtPercentile(99.9)) / 1_000, "max_ms": Double(histogram.max) / 1_000,
                                 "acknowledgements": Double(histogram.totalCount), "missing": Double(missing),
                                 "offered_events_per_s": Double(events) / seconds])
    }

    /// The steady mix, ten events per cycle: a complaint (the measured one), a new customer, an
    /// order placed, and earlier orders shipped, out for delivery and delivered, an earlier
    /// ticket replied to and resolved, a customer updated, a query.
    static func mix(_ f: EventFactory, total: Int) -> [LoadRequest] {
        var requests: [LoadRequest] = []
        requests.reserveCapacity(total)
        for j in 0..<(total / 10) {
            let events: [(String, String?)] = [
                (f.ticketOpened("lat-t\(j)", customer: "lat-\(j)"), "lat-\(j)@bench.example"),
                (f.customerRegistered("m\(j)", preference: j % 2 == 0 ? .sms : .email), nil),
                (f.orderPlaced("o\(j)", customer: "m\(j)"), nil),
                (j >= 5 ? f.orderShipped("o\(j - 5)") : f.customerUpdated("m\(j)"), nil),
                (j >= 10 ? f.orderOutForDelivery("o\(j - 10)") : f.customerRegistered("w\(j)-a"), nil),
                (j >= 15 ? f.orderDelivered("o\(j - 15)") : f.customerRegistered("w\(j)-b"), nil),
                (j >= 5 ? f.ticketReplied("lat-t\(j - 5)") : f.customerRegistered("w\(j)-c"), nil),
                (j >= 3 ? f.customerUpdated("m\(j - 3)") : f.customerRegistered("w\(j)-d"), nil),
                (j >= 2 ? f.ticketOpened("q\(j)", customer: "m\(j - 2)", kind: "query") : f.customerRegistered("w\(j)-e"), nil),
                (j >= 20 ? f.ticketResolved("lat-t\(j - 20)") : f.customerRegistered("w\(j)-f"), nil),
            ]
            for (event, tag) in events { requests.append(LoadRequest(body: Array(event.utf8), tag: tag)) }
        }
        return requests
    }
}

/// When each tagged request was accepted; written on the load's one event loop only.
final class AcceptTimes: @unchecked Sendable {
    // @unchecked: the load writes it from its single event loop; it is read after the load ended.
    var times: [String: UInt64] = [:]
}
