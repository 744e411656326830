import Foundation

/// What a receipt does to a message its server accepted:
///
///     sent ──delivered, complained──▶ delivered
///     sent, delivered ──soft bounce, attempts left──▶ retrying (on the channel's schedule)
///     sent, delivered ──hard bounce, failed, soft with none left──▶ pending on the next route
///                                                                  or bounced when there is none
///     pending, retrying ──its address suppressed──▶ pending on the next route, or skipped
extension OutboxStateMachine {
    /// The message's next progress, or nil when the receipt changes nothing: it is about an
    /// earlier route, repeats what is known, or comes for a message that was never accepted.
    /// `canResend` is false once the message's contents were erased: it cannot go out again.
    public static func receive(_ progress: DeliveryProgress, receipt: Receipt, now: Date, policy: RetryPolicy, canResend: Bool)
        -> DeliveryProgress?
    {
        guard receipt.channel == progress.route.channel, MessageState.accepted.contains(progress.state),
              receipt.address.map({ Customer.sameAddress($0, progress.route.recipient, on: receipt.channel) }) ?? true
        else { return nil }
        var next = progress
        switch receipt.status {
        case .delivered, .complained:
            // Delivered already: a complaint adds nothing to the message (the customer's
            // suppression and consent are the reducer's part).
            guard progress.state == .sent else { return nil }
            next.state = .delivered
            return next
        case .bounced, .failed:
            let said = receipt.summary
            // A soft bounce after a report of delivery contradicts it: the delivery stands.
            if receipt.kind == .soft, progress.state == .delivered { return nil }
            if receipt.kind == .soft, canResend,
               // Jitter from the key, not a random draw: the pipeline stays a function of the log
               // and its clock, and a burst of bounces is still spread out.
               let due = policy.nextAttempt(afterAttempts: progress.attempts, startedAt: progress.routeStartedAt, now: now,
                                            jitter: Self.jitter(receipt.key)) {
                next.state = .retrying
                next.dueAt = due
                next.lastError = said
                return next
            }
            guard canResend else {
                next.state = .bounced
                next.lastError = "\(progress.route.channel.rawValue): \(said); its contents were erased, so it cannot go on another channel"
                return next
            }
            next = failOver(next, reason: said, now: now)
            if next.state == .dead { next.state = .bounced }
            return next
        }
    }

    /// A queued message whose address was just suppressed goes on its next route, or is skipped
    /// with the reason when it has none. Nil when it is not queued on that address.
    public static func reroute(_ progress: DeliveryProgress, around suppression: Suppression, now: Date) -> DeliveryProgress? {
        guard MessageState.unsent.contains(progress.state), progress.route.channel == suppression.channel else { return nil }
        var next = failOver(progress, reason: "address suppressed (\(suppression.reason.rawValue))", now: now)
        if next.state == .dead { next.state = .skipped }
        // Held for the customer's quiet hours: still held on the next channel.
        next.dueAt = max(progress.dueAt, now)
        return next
    }

    /// A number in 0...1 from a message key (FNV-1a), the same on every run.
    static func jitter(_ key: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Double(hash % 1_000) / 999
    }
}
