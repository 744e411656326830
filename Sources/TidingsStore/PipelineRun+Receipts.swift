import Foundation
import GRDB
import TidingsCore

extension PipelineRun {
    /// Carries out a receipt: its history row, the message's next state
    /// (`OutboxStateMachine.receive`), and, when it closed the customer's address, the move of
    /// their queued messages off it. `customer` is the customer as the receipt left them.
    mutating func receive(_ receipt: Receipt, _ stored: StoredEvent, customer: Customer?) throws {
        let columns = "id, workflow, state, channel, recipient, fallback, route_attempts, due_at, route_started_at, last_error, erased_at"
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM messages WHERE key = ?"), arguments: [receipt.key])
        else {
            batch.receiptsUnmatched += 1
            return try reroute(receipt, customer: customer)
        }
        let id: Int64 = row["id"]
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO message_receipts (message_id, event_position, at, channel, status, kind, provider, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                id, stored.position, stored.recordedAt.timeIntervalSince1970, receipt.channel.rawValue, receipt.status.rawValue,
                receipt.kind?.rawValue, receipt.provider, receipt.reason,
            ])
        batch.receipts[PipelineBatch.ReceiptTally(channel: receipt.channel, workflow: row["workflow"], status: receipt.status), default: 0] += 1
        if var progress = Self.progress(row) {
            if progress.state == .sending { batch.receiptsBeforeRecord.append(receipt.key) }
            // A message that did not arrive and has nowhere else to go is offered the customer's
            // other channels.
            if receipt.status == .bounced || receipt.status == .failed, progress.fallbacks.isEmpty, let customer {
                progress.fallbacks = ChannelSelection.routes(around: progress.route.channel, for: customer, off: engine.channelsOff)
            }
            if let next = OutboxStateMachine.receive(progress, receipt: receipt, now: now, policy: engine.retryPolicy(progress.route.channel),
                                                     canResend: (row["erased_at"] as Double?) == nil) {
                try update(id, to: next)
                if MessageState.unsent.contains(next.state) { batch.readyByChannel[next.route.channel, default: 0] += 1 }
            }
        }
        try reroute(receipt, customer: customer)
    }

    mutating func reroute(_ receipt: Receipt, customer: Customer?) throws {
        guard receipt.suppresses, let customer, let suppression = customer.suppression(on: receipt.channel) else { return }
        try reroute(customer, around: suppression)
    }

    /// The customer's queued messages to an address that was just suppressed go on their next
    /// channel, or are skipped saying why; the others drop it from their fallbacks.
    mutating func reroute(_ customer: Customer, around suppression: Suppression) throws {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, state, channel, recipient, fallback, route_attempts, due_at, route_started_at, last_error FROM messages
            WHERE customer_id = ? AND state IN \(MessageState.unsent.sqlList)
            """), arguments: [customer.id])
        let closed = { (route: Route) in
            route.channel == suppression.channel && Customer.sameAddress(route.recipient, suppression.address, on: route.channel)
        }
        for row in rows {
            guard var progress = Self.progress(row) else { continue }
            let kept = progress.fallbacks.filter { !closed($0) }
            guard closed(progress.route) else {
                if kept.count != progress.fallbacks.count {
                    progress.fallbacks = kept
                    try update(row["id"], to: progress)
                }
                continue
            }
            progress.fallbacks = kept.isEmpty ? ChannelSelection.routes(around: progress.route.channel, for: customer, off: engine.channelsOff) : kept
            guard let next = OutboxStateMachine.reroute(progress, around: suppression, now: now) else { continue }
            try update(row["id"], to: next)
            if next.state == .skipped { batch.skipped += 1 } else { batch.readyByChannel[next.route.channel, default: 0] += 1 }
        }
    }

    /// A message row's progress; nil when its state or channel is not one this version knows.
    static func progress(_ row: Row) -> DeliveryProgress? {
        guard let state = (row["state"] as String?).flatMap(MessageState.init(rawValue:)),
              let channel = (row["channel"] as String?).flatMap(Channel.init(rawValue:))
        else { return nil }
        return DeliveryProgress(
            state: state, route: Route(channel: channel, recipient: row["recipient"] ?? ""), fallbacks: Route.routes(row["fallback"] ?? "[]") ?? [],
            attempts: row["route_attempts"], dueAt: Date(timeIntervalSince1970: row["due_at"]), lastError: row["last_error"],
            routeStartedAt: (row["route_started_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    func update(_ id: Int64, to next: DeliveryProgress) throws {
        try db.cachedStatement(sql: """
            UPDATE messages SET state = ?, channel = ?, recipient = ?, fallback = ?, route_attempts = ?, due_at = ?, last_error = ?,
                route_started_at = ?, updated_at = ?
            WHERE id = ?
            """).execute(arguments: [
                next.state.rawValue, next.route.channel.rawValue, next.route.recipient, try Route.document(next.fallbacks), next.attempts,
                next.dueAt.timeIntervalSince1970, next.lastError, next.routeStartedAt?.timeIntervalSince1970, now.timeIntervalSince1970, id,
            ])
    }
}
