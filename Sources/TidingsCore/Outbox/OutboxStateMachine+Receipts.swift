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
        guard receipt.channel == progress.route.channel, MessageState.accepted.contains(progress.state) else { return nil }
        var next = progress
        switch receipt.status {
        case .delivered, .complained:
            guard progress.state == .sent else { return nil }
            next.state = .delivered
            return next
        case .bounced, .failed:
            let said = receipt.summary
            if receipt.kind == .soft, canResend,
               // Jitter fixed at the middle: a replay of the log must reach the same due time.
               let due = policy.nextAttempt(afterAttempts: progress.attempts, startedAt: progress.routeStartedAt, now: now, jitter: 0.5) {
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
        return next
    }
}
