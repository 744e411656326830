import Foundation
import Logging
import TidingsCore

extension Dispatcher {
    /// What a turn claimed: messages to hand to transports, and messages failed at once
    /// because their endpoint is disabled (recorded on the next turn, never sent).
    struct Work {
        var send: [(OutboxMessage, ChannelSetup)] = []
        var failed: [DeliveryRecord] = []
    }

    /// One turn of `drain`: records every result and claims what each gate has room for, in one
    /// transaction. Nil when the store failed.
    func turn(_ unrecorded: inout [DeliveryRecord]) async -> Work? {
        let now = clock()
        if let report = takeFlowReport() { await share(report, now: now) }
        let room = gates.withLock { book in
            var room: [Channel: Int] = [:]
            for (channel, var gate) in book.gates {
                // No more than the connections: a turn waits for all its sends, so a send held
                // for a connection would only wait, and could come back unsent.
                room[channel] = min(gate.room(now: now), max(0, gate.concurrency - gate.inFlight))
                book.gates[channel] = gate
            }
            return room
        }
        let claim: OutboxClaim
        do {
            claim = try await queue.settleAndClaim(unrecorded, releasing: [], room: room, endpoints: endpoints, now: now, lease: lease, owner: owner)
            unrecorded.removeAll()
        } catch {
            // Kept for the next turn; if the process dies first, the claims are released at the
            // next start and the messages are sent again with the same key.
            logger.error("cannot record results or claim messages", metadata: ["error": "\(error)"])
            return nil
        }
        let work = sort(claim)
        starting(work.send.map(\.0), now: now)
        return work
    }

    /// Splits what was claimed: messages to send, and messages failed at once because their
    /// endpoint is disabled.
    func sort(_ claim: OutboxClaim) -> Work {
        let disabled = Set(claim.disabled.keys)
        if gates.withLock({ book in defer { book.disabled = disabled }; return book.disabled != disabled }) {
            for channel in Channel.allCases { metrics.endpoint(channel, disabled: disabled.contains(channel)) }
        }
        var work = Work()
        for message in claim.messages {
            guard let setup = channels[message.channel] else { continue }
            if let disabled = claim.disabled[message.channel] {
                let reason = "the \(message.channel.rawValue) endpoint is disabled since \(Timestamp.format(disabled.since)) (\(disabled.reason)); "
                    + "enable it with `tidings endpoints enable \(message.channel.rawValue)`"
                work.failed.append(settle(message, outcome: .permanent(reason: reason), setup: setup, sent: false))
            } else {
                work.send.append((message, setup))
            }
        }
        return work
    }

    /// Tells the gates that these sends start, and notes the breaker epoch each starts in.
    func starting(_ messages: [OutboxMessage], now: Date) {
        guard !messages.isEmpty else { return }
        gates.withLock { book in
            for message in messages {
                guard let epoch = book.gates[message.channel]?.started(1, now: now) else { continue }
                book.epochs[message.id] = epoch
            }
        }
    }

    /// Takes the sends that transports gave back unsent, and frees their gates' slots.
    func takeGivenBack() -> [OutboxMessage] {
        let messages = givenBack.withLock { messages in defer { messages.removeAll() }; return messages }
        guard !messages.isEmpty else { return [] }
        let now = clock()
        gates.withLock { book in
            for message in messages {
                book.gates[message.channel]?.givenBack(now: now, startedIn: book.epochs.removeValue(forKey: message.id))
            }
        }
        return messages
    }

    /// Takes the results that finished since the last turn (settling the outcomes transports
    /// left), and lets their gates know.
    func takeFinished() -> [DeliveryRecord] {
        let answers = answered.withLock { answers in defer { answers.removeAll() }; return answers }
        var records = finished.withLock { records in defer { records.removeAll() }; return records }
        // Joined only when there are answers to settle: a sum copied every record of the step.
        if !answers.isEmpty {
            records = answers.map { settle($0.message, outcome: $0.outcome, setup: $0.setup, sent: true) } + records
        }
        guard !records.isEmpty else { return [] }
        let now = clock()
        gates.withLock { book in
            for record in records {
                let channel = record.message.channel
                guard var gate = book.gates[channel] else { continue }
                let before = gate.breaker.epoch
                let wasPaused = gate.breaker.isPaused
                gate.finished(record.outcome, now: now, startedIn: book.epochs.removeValue(forKey: record.message.id))
                book.gates[channel] = gate
                if gate.breaker.epoch != before || gate.breaker.isPaused != wasPaused {
                    breakerChanged(channel, gate.breaker)
                    book.report.note(channel, gate.breaker)
                }
            }
        }
        return records
    }

    func breakerChanged(_ channel: Channel, _ breaker: CircuitBreaker, byAnotherInstance: Bool = false) {
        metrics.paused(channel, breaker.isPaused)
        if let until = breaker.reopensAt {
            let why = byAnotherInstance ? "another instance found its endpoint failing" : "its endpoint keeps failing"
            logger.warning("channel paused: \(why)", metadata: [
                "channel": "\(channel.rawValue)", "probe_at": "\(Timestamp.format(until))",
            ])
        } else if !breaker.isPaused {
            logger.notice("channel resumed: its endpoint answers again", metadata: ["channel": "\(channel.rawValue)"])
        }
    }

    /// Renders and sends one message and waits for it, then settles it with the outbox state
    /// machine (`drain`, which awaits every send of a turn).
    func deliver(_ message: OutboxMessage, _ setup: ChannelSetup) async {
        let outcome: DeliveryOutcome
        do {
            outcome = await setup.transport.send(try outgoing(message))
        } catch {
            outcome = .permanent(reason: "cannot render: \(error)")
        }
        finish(message, outcome: outcome, setup: setup)
    }

    /// Renders these messages and hands each to its transport without waiting for it (the
    /// running loop): a sent one is settled where the transport answers (the curl worker's
    /// queue), any other outcome is left for the loop to settle (it logs a warning, which the
    /// worker's queue must not wait for), and a send the transport gives back unsent (nil)
    /// goes back to the front of its channel's claims, to start again when there is room.
    /// `sending` counts them until then.
    func begin(_ sends: [(OutboxMessage, ChannelSetup)]) {
        for (message, setup) in sends {
            let outgoing: OutgoingMessage
            do {
                outgoing = try self.outgoing(message)
            } catch {
                finish(message, outcome: .permanent(reason: "cannot render: \(error)"), setup: setup)
                continue
            }
            sending.add(1, ordering: .relaxed)
            setup.transport.start(outgoing) { outcome in
                if let outcome, case .sent = outcome {
                    // Settled here, off the loop, which every other step waits for; a sent
                    // message logs at debug only.
                    let record = self.settle(message, outcome: outcome, setup: setup, sent: true)
                    self.finished.withLock { $0.append(record) }
                } else if let outcome {
                    self.answered.withLock { $0.append(Answer(message: message, outcome: outcome, setup: setup)) }
                } else {
                    self.givenBack.withLock { $0.append(message) }
                }
                self.sending.subtract(1, ordering: .releasing)
                self.wakeup.ring()
            }
        }
    }

    /// The message rendered for its transport.
    func outgoing(_ message: OutboxMessage) throws -> OutgoingMessage {
        let context = message.parsedContext()
        guard context != .null else {
            throw DeliveryError(.invalidMessage, "the stored template context of message \(message.id) is not readable JSON")
        }
        let content = try catalog.render(template: message.template, channel: message.channel, locale: message.locale, context: context)
        return OutgoingMessage(
            key: message.key, channel: message.channel, workflow: message.workflow, category: message.category,
            customerID: message.customerID, subjectID: message.subjectID, recipient: message.recipient,
            recipientName: context.value(atPath: "customer.name")?.stringValue, content: content, date: clock(),
            threadRoot: message.threadRoot)
    }

    /// Settles a finished send and leaves its result for the loop (or `drain`) to record.
    func finish(_ message: OutboxMessage, outcome: DeliveryOutcome, setup: ChannelSetup) {
        let record = settle(message, outcome: outcome, setup: setup, sent: true)
        finished.withLock { $0.append(record) }
        wakeup.ring()
    }

    /// The state machine's verdict on one attempt, counted and logged.
    func settle(_ message: OutboxMessage, outcome: DeliveryOutcome, setup: ChannelSetup, sent: Bool) -> DeliveryRecord {
        // Drawn only for a retry, the one outcome that uses it: each draw from the system's
        // generator is a `getrandom` call.
        let jitter: Double
        if case .transient = outcome { jitter = Double.random(in: 0...1) } else { jitter = 0 }
        let next = OutboxStateMachine.settle(message.progress, outcome: outcome, now: clock(), policy: setup.retry, jitter: jitter)
        let record = DeliveryRecord(message: message, outcome: outcome, next: next)
        metrics.settled(record, attempted: sent, now: clock())
        func details() -> Logger.Metadata {
            ["message": "\(message.id)", "key": "\(message.key)", "channel": "\(message.channel.rawValue)",
             "workflow": "\(message.workflow)", "outcome": "\(outcome.label)", "state": "\(next.state.rawValue)"]
        }
        if case .sent = outcome {
            // Debug, not info: a line per message cost 10-15% of the webhook rate at 5,000 a
            // second (BENCHMARKS.md); `tidings deliveries` and the metrics keep every send.
            // The metadata is built only when the line is logged.
            logger.debug("message sent", metadata: details())
        } else {
            var metadata = details()
            // A server's refusal often quotes the address: the journal cannot be erased later.
            let recipient = message.recipient
            metadata["reason"] = "\(recipient.isEmpty ? outcome.detail : outcome.detail.replacingOccurrences(of: recipient, with: "<recipient>"))"
            if next.state == .retrying { metadata["retry_at"] = "\(Timestamp.format(next.dueAt))" }
            if next.route != message.progress.route { metadata["fallback"] = "\(next.route.channel.rawValue)" }
            logger.warning("message not sent", metadata: metadata)
        }
        return record
    }
}
