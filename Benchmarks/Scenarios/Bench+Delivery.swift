import Foundation

extension Bench {
    /// 4. 100,000 SMS messages as signed webhooks to nginx answering 204, against
    /// `curl --parallel --parallel-max 16` posting as many requests of the same size to the same
    /// nginx. The outbox is filled first (acknowledgements of complaints by customers who prefer
    /// SMS); then the daemon starts with 16 sends in flight and is timed until every message is
    /// recorded as sent.
    func webhooks() async throws -> [Outcome] {
        let total = count(100_000)
        let nginx = try await Nginx.start(work: work)
        return try await stopping(nginx.child) {
            let body = String(repeating: "x", count: 420)
            let curl = try await Child.timed("curl-reference", try which("curl"), [
                "--silent", "--show-error", "--fail", "--parallel", "--parallel-max", "16", "--parallel-immediate",
                "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", #"{"text":"\#(body)"}"#,
                "http://127.0.0.1:\(nginx.port)/reference/[1-\(total)]",
            ], logs: work).seconds
            let reference = Double(total) / curl

            var tidings = try tidings("4-webhooks")
            tidings.sms(webhookPort: nginx.port, concurrency: 16)
            let factory = EventFactory(run: "s4")
            let customers = max(1, total / 10)
            let (seconds, cpu) = try await tidings.measureSending(total, channel: "sms") { file in
                for c in 0..<customers { file.add(factory.customerRegistered("c\(c)", preference: .sms)) }
                for t in 0..<total { file.add(factory.ticketOpened("t\(t)", customer: "c\(t % customers)")) }
            }
            let rate = Double(total) / seconds
            return [Outcome(scenario: "4 webhooks to nginx", figure: rate, unit: "msg/s", reference: reference,
                            referenceTool: "curl --parallel-max 16", target: ">= 0.8 x curl", pass: rate >= 0.8 * reference,
                            details: cpu.perItem(total).merging(["messages": Double(total), "seconds": seconds, "curl_seconds": curl]) { $1 })]
        }
    }

    /// 5. 50,000 emails to smtp-sink against `smtp-source -s 16 -d` (16 sessions, each reusing
    /// its connection) sending as many messages of about the same size to the same smtp-sink.
    func email() async throws -> [Outcome] {
        let total = count(50_000)
        let sink = try await SMTPSink.start(work: work)
        return try await stopping(sink.child) {
            let source = try await Child.timed("smtp-source", try which("smtp-source"), [
                "-s", "16", "-d", "-m", "\(total)", "-l", "3000", "-f", "bench@bench.example", "-t", "sink@bench.example",
                "127.0.0.1:\(sink.port)",
            ], logs: work).seconds
            let reference = Double(total) / source

            var tidings = try tidings("5-email")
            tidings.email(smtpPort: sink.port, concurrency: 16)
            let factory = EventFactory(run: "s5")
            let customers = max(1, total / 10)
            let (seconds, cpu) = try await tidings.measureSending(total, channel: "email") { file in
                for c in 0..<customers { file.add(factory.customerRegistered("c\(c)")) }
                for t in 0..<total { file.add(factory.ticketOpened("t\(t)", customer: "c\(t % customers)", kind: "query")) }
            }
            let rate = Double(total) / seconds
            return [Outcome(scenario: "5 email to smtp-sink", figure: rate, unit: "msg/s", reference: reference,
                            referenceTool: "smtp-source -s 16 -d", target: ">= 0.4 x smtp-source", pass: rate >= 0.4 * reference,
                            details: cpu.perItem(total).merging(["messages": Double(total), "seconds": seconds, "smtp_source_seconds": source]) { $1 })]
        }
    }
}

extension Tidings {
    /// Fills the outbox with `total` messages of a channel (events from `events`, projected with
    /// sending off), then starts the daemon with sending on and times it, from its start until
    /// every message is recorded as sent, with the CPU it and the whole machine used meanwhile.
    /// The records are checked after it stopped.
    func measureSending(_ total: Int, channel: String, events: (inout NDJSONFile) -> Void) async throws -> (seconds: Double, cpu: CPUUse) {
        var file = try NDJSONFile(work.appendingPathComponent("events.ndjson"))
        events(&file)
        try file.close()
        _ = try await append(file.url, name: "append-events")
        let (projecting, _) = try await serve(name: "serve-projecting", dispatch: false)
        try await stopping(projecting) { try await Progress(pool: try reader()).caughtUp(timeout: 600) }
        let queued = try Progress(pool: try reader()).messages(state: "pending", channel: channel)
        guard queued == total else { throw BenchError("expected \(total) \(channel) messages in the outbox, found \(queued)") }

        let start = ContinuousClock.now
        let machineBefore = CPUUse.machineBusySeconds()
        let (daemon, _) = try await serve(name: "serve-sending")
        let progress = Progress(pool: try reader())
        let (seconds, cpu) = try await stopping(daemon) {
            try await progress.wait(timeout: 600, "\(total) \(channel) messages sent") { try !progress.unsent(channel: channel) }
            return ((ContinuousClock.now - start).seconds, CPUUse(daemons: daemon.cpuSeconds(), machine: CPUUse.machineBusySeconds() - machineBefore))
        }
        let recorded = try Progress(pool: try reader()).messages(state: "sent", channel: channel)
        guard recorded == total else { throw BenchError("\(recorded) of \(total) messages recorded as sent after the daemon stopped") }
        return (seconds, cpu)
    }
}
