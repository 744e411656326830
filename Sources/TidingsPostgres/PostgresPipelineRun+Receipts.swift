import Foundation
import PostgresNIO
import TidingsCore

extension PostgresPipelineRun {
    /// Carries out a receipt: its history row, the message's next state
    /// (`OutboxStateMachine.receive`), and, when it closed the customer's address, the move of
    /// their queued messages off it. `customer` is the customer as the receipt left them.
    mutating func receive(_ receipt: Receipt, _ stored: StoredEvent, customer: Customer?) async throws {
        let rows = try await connection.run("""
            SELECT id, workflow, state, channel, recipient, fallback, route_attempts, due_at, route_started_at, last_error, erased_at
            FROM messages WHERE key = \(receipt.key) FOR UPDATE
            """, logger: logger)
        var found: (id: Int64, workflow: String, progress: DeliveryProgress?, erased: Bool)?
        for try await row in rows {
            let (id, workflow, state, channel, recipient, fallback, attempts, due, started, error, erased) =
                try row.decode((Int64, String, String, String?, String?, String, Int64, Double, Double?, String?, Double?).self)
            found = (id, workflow, Self.progress(state, channel, recipient, fallback, attempts, due, started, error), erased != nil)
        }
        guard let found else {
            batch.receiptsUnmatched += 1
            return try await reroute(receipt, customer: customer)
        }
        try await connection.run("""
            INSERT INTO message_receipts (message_id, event_position, at, channel, status, kind, provider, detail)
            VALUES (\(found.id), \(stored.position), \(stored.recordedAt.timeIntervalSince1970), \(receipt.channel.rawValue),
                \(receipt.status.rawValue), \(receipt.kind?.rawValue), \(receipt.provider), \(receipt.reason))
            ON CONFLICT DO NOTHING
            """, logger: logger)
        batch.receipts[PipelineBatch.ReceiptTally(channel: receipt.channel, workflow: found.workflow, status: receipt.status), default: 0] += 1
        if var progress = found.progress {
            if progress.state == .sending { batch.receiptsBeforeRecord.append(receipt.key) }
            // A message that did not arrive and has nowhere else to go is offered the customer's
            // other channels.
            if receipt.status == .bounced || receipt.status == .failed, progress.fallbacks.isEmpty, let customer {
                progress.fallbacks = ChannelSelection.routes(around: progress.route.channel, for: customer, off: engine.channelsOff)
            }
            if let next = OutboxStateMachine.receive(progress, receipt: receipt, now: now, policy: engine.retryPolicy(progress.route.channel),
                                                     canResend: !found.erased) {
                try await update(found.id, to: next)
                if MessageState.unsent.contains(next.state) { batch.readyByChannel[next.route.channel, default: 0] += 1 }
            }
        }
        try await reroute(receipt, customer: customer)
    }

    mutating func reroute(_ receipt: Receipt, customer: Customer?) async throws {
        guard receipt.suppresses, let customer, let suppression = customer.suppression(on: receipt.channel) else { return }
        try await reroute(customer, around: suppression)
    }

    /// The customer's queued messages to an address that was just suppressed go on their next
    /// channel, or are skipped saying why; the others drop it from their fallbacks. The rows
    /// are locked as they are read (`FOR UPDATE`): another instance's dispatcher may be claiming
    /// them, and a claim that commits first takes its message out of this set.
    mutating func reroute(_ customer: Customer, around suppression: Suppression) async throws {
        let rows = try await connection.run("""
            SELECT id, state, channel, recipient, fallback, route_attempts, due_at, route_started_at, last_error FROM messages
            WHERE customer_id = \(customer.id) AND state IN \(unescaped: MessageState.unsent.sqlList)
            FOR UPDATE
            """, logger: logger)
        var queued: [(Int64, DeliveryProgress)] = []
        for try await row in rows {
            let (id, state, channel, recipient, fallback, attempts, due, started, error) =
                try row.decode((Int64, String, String?, String?, String, Int64, Double, Double?, String?).self)
            if let progress = Self.progress(state, channel, recipient, fallback, attempts, due, started, error) { queued.append((id, progress)) }
        }
        let closed = { (route: Route) in
            route.channel == suppression.channel && Customer.sameAddress(route.recipient, suppression.address, on: route.channel)
        }
        for (id, original) in queued {
            var progress = original
            let kept = progress.fallbacks.filter { !closed($0) }
            guard closed(progress.route) else {
                if kept.count != progress.fallbacks.count {
                    progress.fallbacks = kept
                    try await update(id, to: progress)
                }
                continue
            }
            progress.fallbacks = kept.isEmpty ? ChannelSelection.routes(around: progress.route.channel, for: customer, off: engine.channelsOff) : kept
            guard let next = OutboxStateMachine.reroute(progress, around: suppression, now: now) else { continue }
            try await update(id, to: next)
            if next.state == .skipped { batch.skipped += 1 } else { batch.readyByChannel[next.route.channel, default: 0] += 1 }
        }
    }

    /// A message row's progress; nil when its state or channel is not one this version knows.
    static func progress(_ state: String, _ channel: String?, _ recipient: String?, _ fallback: String, _ attempts: Int64, _ due: Double,
                         _ started: Double?, _ error: String?) -> DeliveryProgress? {
        guard let state = MessageState(rawValue: state), let channel = channel.flatMap(TidingsCore.Channel.init(rawValue:)) else { return nil }
        return DeliveryProgress(
            state: state, route: Route(channel: channel, recipient: recipient ?? ""), fallbacks: Route.routes(fallback) ?? [],
            attempts: Int(attempts), dueAt: Date(timeIntervalSince1970: due), lastError: error,
            routeStartedAt: started.map(Date.init(timeIntervalSince1970:)))
    }

    func update(_ id: Int64, to next: DeliveryProgress) async throws {
        try await connection.run("""
            UPDATE messages SET state = \(next.state.rawValue), channel = \(next.route.channel.rawValue), recipient = \(next.route.recipient),
                fallback = \(try Route.document(next.fallbacks)), route_attempts = \(next.attempts), due_at = \(next.dueAt.timeIntervalSince1970),
                last_error = \(next.lastError), route_started_at = \(next.routeStartedAt?.timeIntervalSince1970), updated_at = \(t)
            WHERE id = \(id)
            """, logger: logger)
    }
}
