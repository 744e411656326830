import Synchronization

/// A value sent once and awaited once: the first `send` wins, later ones do nothing. The
/// waiter hears it even if its task was cancelled meanwhile (an `AsyncStream` would end the
/// wait at cancellation), and `wait` does not wait for whoever sends.
final class Signal<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value, Never>?
    }

    private let state = Mutex(State())

    func wait() async -> Value {
        await withCheckedContinuation { continuation in
            let value = state.withLock { state in
                if state.value == nil { state.waiter = continuation }
                return state.value
            }
            if let value { continuation.resume(returning: value) }
        }
    }

    func send(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }
}

/// What `work` returns (or throws), or nil when `timeout` passes first. `work` runs in a task
/// of its own, cancelled and not waited for once the time is up: a query lost on a closing
/// connection (see `PostgresConnection.run`) would hold a task group's caller forever.
func answer<Value: Sendable>(within timeout: Duration, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value? {
    let answer = Signal<Result<Value, any Error>?>()
    let worker = Task {
        do { answer.send(.success(try await work())) } catch { answer.send(.failure(error)) }
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        answer.send(nil)
    }
    defer {
        worker.cancel()
        timer.cancel()
    }
    return try await answer.wait()?.get()
}
