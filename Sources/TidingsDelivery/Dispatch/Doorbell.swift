import Dispatch
import Synchronization

/// Wakes one waiting loop: the pipeline rings it when it wrote new messages, finished sends
/// ring it to get their results recorded. A ring with nobody waiting is remembered, so
/// nothing is missed between two waits.
public final class Doorbell: Sendable {
    private struct State: Sendable {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the waiter's wait ends (`DispatchTime` uptime nanoseconds).
        var waiterDeadline: UInt64 = 0
        /// The deadline of the earliest timer armed and not fired yet. A wait that ends later
        /// arms none: the dispatcher's loop waits after every finished send, and a Dispatch
        /// timer armed per wait woke a thread per send, long after the wait was over.
        var armed: UInt64?
    }

    private let state = Mutex(State())
    /// Rung with this one: a loop that waits on `next` can still tell, with `takeRing()`,
    /// whether this bell was among the reasons it woke.
    private let next: Doorbell?

    public init(forwardingTo next: Doorbell? = nil) {
        self.next = next
    }

    public func ring() {
        defer { next?.ring() }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Whether it was rung since the last `takeRing()` or `wait`, and forgets that it was.
    public func takeRing() -> Bool {
        state.withLock { state in
            defer { state.rung = false }
            return state.rung
        }
    }

    /// Returns when rung, after `timeout`, or when the task is cancelled. One waiter at a time.
    public func wait(timeout: Duration) async {
        enum Next { case now, wait, arm(UInt64) }
        let nanoseconds = UInt64(max(0, timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let next = state.withLock { state -> Next in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return .now
                    }
                    let deadline = DispatchTime.now().uptimeNanoseconds &+ nanoseconds
                    state.waiter = continuation
                    state.waiterDeadline = deadline
                    if let armed = state.armed, armed <= deadline { return .wait }
                    state.armed = deadline
                    return .arm(deadline)
                }
                switch next {
                case .now: continuation.resume()
                case .wait: break
                case .arm(let deadline): schedule(deadline)
                }
            }
        } onCancel: {
            ring()
        }
    }

    private func schedule(_ deadline: UInt64) {
        DispatchQueue.global().asyncAfter(deadline: DispatchTime(uptimeNanoseconds: deadline)) { self.fire(deadline) }
    }

    /// A timer's turn: the waiter goes if its wait is over; one that waits longer gets a timer
    /// for its own end, unless an earlier one is armed.
    private func fire(_ deadline: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        let (expired, rearm) = state.withLock { state -> (CheckedContinuation<Void, Never>?, UInt64?) in
            if state.armed == deadline { state.armed = nil }
            guard let waiter = state.waiter else { return (nil, nil) }
            if state.waiterDeadline <= now {
                state.waiter = nil
                return (waiter, nil)
            }
            if let armed = state.armed, armed <= state.waiterDeadline { return (nil, nil) }
            state.armed = state.waiterDeadline
            return (nil, state.waiterDeadline)
        }
        expired?.resume()
        if let rearm { schedule(rearm) }
    }
}
