import Dispatch
import Synchronization

/// Wakes one waiting loop: the pipeline rings it when it wrote new messages, finished sends
/// ring it to get their results recorded. A ring with nobody waiting is remembered, so
/// nothing is missed between two waits.
public final class Doorbell: Sendable {
    private struct State: Sendable {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
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
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let generation = state.withLock { state -> Int? in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return nil
                    }
                    state.generation += 1
                    state.waiter = continuation
                    return state.generation
                }
                guard let generation else { return continuation.resume() }
                let nanoseconds = max(0, timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
                    let expired = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard state.generation == generation, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        return waiter
                    }
                    expired?.resume()
                }
            }
        } onCancel: {
            ring()
        }
    }
}
