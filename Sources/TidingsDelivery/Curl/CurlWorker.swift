import CCurl
import Dispatch
import Foundation
import Synchronization

/// A libcurl multi handle driven on its own serial Dispatch queue: many transfers in flight
/// at once and one connection cache, so SMTP sessions and HTTP keep-alive connections are
/// reused across messages.
///
/// At most `maxActive` transfers run at once; requests beyond them wait here, in order, and the
/// turn that sees a transfer finish starts the next on the connection it freed. A dispatcher
/// that hands over more than that keeps every connection busy without a round trip of its own
/// between one transfer's end and the next one's start. They wait here, not in libcurl's
/// queue of transfers pending a connection, because a transfer's timeouts start when it is
/// added: a slow endpoint would time out requests that never reached it. A request that waits
/// longer than `holdLimit` goes back unsent (`CurlResponse.givenBack`): behind a slow endpoint
/// holding gains nothing, and a send must start well within its claim's lease and carry a
/// fresh timestamp and signature.
///
/// A finished transfer's completion runs on the worker's queue (`start(_:mayGiveBack:then:)`):
/// the dispatcher settles a sent message there, so no task waits per send.
///
/// `@unchecked Sendable` is safe because the multi handle, the easy handles, `active`,
/// `waiting` and `idle` are only touched on `queue`; the only state shared across threads is
/// `incoming`, which a Mutex guards, the `givingBack` flag and the `unanswered` count (atomics),
/// and `curl_multi_wakeup`, which libcurl documents as callable from any thread.
public final class CurlWorker: @unchecked Sendable {
    /// Called once, on the worker's queue, with the transfer's response.
    public typealias Completion = @Sendable (CurlResponse) -> Void

    private let queue: DispatchQueue
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: (CurlTransfer, Completion)] = [:]
    /// Requests handed over while `maxActive` transfers ran, first to start first, with when
    /// they began to wait.
    private var waiting: [Waiting] = []
    private var waitingStart = 0
    private let maxActive: Int
    /// Set by `giveBack()` for good: from then on nothing new starts, every request goes back.
    private let givingBack = Atomic<Bool>(false)
    /// How long a request may wait for a connection before it goes back unsent.
    let holdLimit: Duration
    /// Finished transfers, reset, for the next requests: an easy handle costs more to create
    /// than to reset.
    private var idle: [CurlTransfer] = []
    private let maxIdle: Int
    private var closed = false
    private let incoming = Mutex(Incoming())
    /// Requests handed over and not answered yet, for a pool that picks the least busy worker.
    private let unanswered = Atomic<Int>(0)

    /// Requests handed over and not answered yet (started, waiting, or just handed over).
    public var load: Int { unanswered.load(ordering: .relaxed) }

    /// Transfers it runs at once, each on a connection of its own.
    public var connections: Int { maxActive }

    /// Requests handed over since the pump's last turn, and whether the pump runs: while it
    /// does, a handover only wakes its poll, with no Dispatch block of its own. One wakeup a
    /// turn is enough (`woken`): each is a write to libcurl's socket pair, and the dispatcher
    /// hands over several requests a turn.
    private struct Incoming {
        var requests: [Waiting] = []
        var pumping = false
        var woken = false
    }

    /// A request handed over and not started, since when: only one whose caller takes it back
    /// unsent (`mayGiveBack`) goes back after `holdLimit`.
    private struct Waiting {
        var request: CurlRequest
        var completion: Completion
        var since: ContinuousClock.Instant
        var mayGiveBack: Bool
    }

    /// - Parameters:
    ///   - label: names the Dispatch queue (shows in stack traces).
    ///   - maxConnectionsPerHost: caps parallel connections to one server, and transfers running at once.
    ///   - holdLimit: how long a request may wait for a connection before it goes back unsent.
    public init(label: String, maxConnectionsPerHost: Int, holdLimit: Duration = .seconds(1)) throws {
        self.holdLimit = holdLimit
        CurlGlobal.ensureInitialised()
        guard let multi = curl_multi_init() else {
            throw DeliveryError(.transport, "libcurl could not create a multi handle (out of memory?)")
        }
        self.multi = multi
        maxIdle = max(4, maxConnectionsPerHost * 2)
        maxActive = max(1, maxConnectionsPerHost)
        // Default QoS: a raised one asks for a thread priority an unprivileged service is refused.
        queue = DispatchQueue(label: "tidings.curl.\(label)", qos: .default)
        _ = tidings_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, maxConnectionsPerHost))
        _ = tidings_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(4, maxConnectionsPerHost * 2))
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Runs one transfer and returns its response; never throws: failures are in the response.
    /// With `mayGiveBack`, a request that waits for a connection longer than `holdLimit` comes
    /// back unsent (`CurlResponse.givenBack`); every request does after `giveBack()`.
    public func perform(_ request: CurlRequest, mayGiveBack: Bool = false) async -> CurlResponse {
        await withCheckedContinuation { (continuation: CheckedContinuation<CurlResponse, Never>) in
            start(request, mayGiveBack: mayGiveBack) { continuation.resume(returning: $0) }
        }
    }

    /// Starts one transfer and returns at once; `completion` gets its response on the worker's
    /// queue (never on the caller's thread), so it must be quick and must not block.
    public func start(_ request: CurlRequest, mayGiveBack: Bool = false, then answer: @escaping Completion) {
        unanswered.add(1, ordering: .relaxed)
        let completion: Completion = { response in
            self.unanswered.subtract(1, ordering: .relaxed)
            answer(response)
        }
        if givingBack.load(ordering: .acquiring) {
            queue.async { completion(Self.givenBack) }
            return
        }
        let handed = Waiting(request: request, completion: completion, since: .now, mayGiveBack: mayGiveBack)
        let (startPump, wake) = incoming.withLock { incoming -> (Bool, Bool) in
            incoming.requests.append(handed)
            defer {
                incoming.pumping = true
                incoming.woken = true
            }
            return (!incoming.pumping, incoming.pumping && !incoming.woken)
        }
        if startPump {
            queue.async { self.pump() }
        } else if wake {
            curl_multi_wakeup(multi)
        }
    }

    /// Fails whatever has not finished and stops the worker (called at shutdown).
    public func close() {
        queue.sync {
            closed = true
            for (handle, (_, completion)) in active {
                curl_multi_remove_handle(multi, handle)
                completion(Self.failure("worker closed before the transfer finished"))
            }
            active.removeAll()
            idle.removeAll()
            for completion in takeUnstarted() {
                completion(Self.failure("worker closed before the transfer started"))
            }
        }
    }

    /// Requests waiting for a connection (not those handed over since the last turn).
    /// For tests: it waits for the worker's queue, so never call it on that queue.
    public var held: Int {
        queue.sync { waiting.count - waitingStart }
    }

    /// Gives back, unsent, every request not started yet, and every request handed over from
    /// now on (the dispatcher is stopping: what it handed over and was never sent goes back to
    /// the outbox as it was). Transfers already running finish.
    public func giveBack() {
        givingBack.store(true, ordering: .releasing)
        curl_multi_wakeup(multi)
        queue.async { self.giveBackUnstarted() }
    }

    private func giveBackUnstarted() {
        for completion in takeUnstarted() { completion(Self.givenBack) }
    }

    /// Requests handed over since the last turn. The next handover wakes the poll again: a
    /// wakeup written before this one took the requests only makes a poll return early once.
    private func takeIncoming() -> [Waiting] {
        incoming.withLock { incoming in
            defer {
                incoming.requests.removeAll()
                incoming.woken = false
            }
            return incoming.requests
        }
    }

    /// Every request not started: those waiting for a connection, then those just handed over.
    private func takeUnstarted() -> [Completion] {
        defer {
            waiting.removeAll(keepingCapacity: true)
            waitingStart = 0
        }
        return waiting[waitingStart...].map(\.completion) + takeIncoming().map(\.completion)
    }

    /// One turn: start what there is room for, let libcurl work, collect finished transfers, and
    /// start the waiting requests on the connections they freed, until nothing more finishes;
    /// then wait up to 100 ms for socket activity (or a wakeup) before the next turn. The wait
    /// blocks this queue's thread only, and only while transfers are running.
    private func pump() {
        // A request handed over just as `giveBack()` was called may have missed its block.
        if givingBack.load(ordering: .acquiring) { giveBackUnstarted() }
        waiting += takeIncoming()
        var finished = false
        repeat {
            startWaiting()
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            finished = collectFinished()
        } while finished && waitingStart < waiting.count
        // After the transfers that finished during the wait freed their connections.
        giveBackStale(now: .now)
        // Nothing running or waiting: the pump stops, unless a request came in meanwhile (checked
        // under the lock a handover takes, so none is left without a pump).
        if active.isEmpty && waitingStart == waiting.count
            && incoming.withLock({ incoming in defer { if incoming.requests.isEmpty { incoming.pumping = false } }; return incoming.requests.isEmpty }) {
            waiting.removeAll(keepingCapacity: true)
            waitingStart = 0
            return
        }
        curl_multi_poll(multi, nil, 0, 100, nil)
        queue.async { self.pump() }
    }

    /// Gives back the requests that may go back and waited longer than `holdLimit`; the others
    /// keep their places.
    private func giveBackStale(now: ContinuousClock.Instant) {
        guard waitingStart < waiting.count, now - waiting[waitingStart].since > holdLimit else { return }
        var kept: [Waiting] = []
        for entry in waiting[waitingStart...] {
            if entry.mayGiveBack && now - entry.since > holdLimit {
                entry.completion(Self.givenBack)
            } else {
                kept.append(entry)
            }
        }
        waiting = kept
        waitingStart = 0
    }

    /// Starts waiting requests while fewer than `maxActive` transfers run.
    private func startWaiting() {
        // Once giving back, nothing new starts; the queued block gives the rest back.
        while active.count < maxActive && waitingStart < waiting.count && !givingBack.load(ordering: .acquiring) {
            let next = waiting[waitingStart]
            waitingStart += 1
            launch(next.request, next.completion)
        }
        // The started prefix goes once it is most of the array: not an O(n) shift per start.
        if waitingStart == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingStart = 0
        } else if waitingStart > 64 && waitingStart * 2 > waiting.count {
            waiting.removeFirst(waitingStart)
            waitingStart = 0
        }
    }

    /// Hands every finished transfer its response; returns whether any finished.
    private func collectFinished() -> Bool {
        var finished = false
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            if let (transfer, completion) = active.removeValue(forKey: handle) {
                finished = true
                completion(transfer.response(code: code))
                if idle.count < maxIdle {
                    transfer.reset()
                    idle.append(transfer)
                }
            }
        }
        return finished
    }

    private func launch(_ request: CurlRequest, _ completion: @escaping Completion) {
        guard !closed else {
            completion(Self.failure("worker closed"))
            return
        }
        guard let transfer = idle.popLast() ?? CurlTransfer() else {
            completion(Self.failure("libcurl could not create an easy handle"))
            return
        }
        guard transfer.configure(request) else {
            completion(Self.failure(transfer.setupError ?? "libcurl refused the request"))
            transfer.reset()
            idle.append(transfer)
            return
        }
        let added = curl_multi_add_handle(multi, transfer.handle)
        guard added == CURLM_OK else {
            transfer.reset()
            idle.append(transfer)
            completion(Self.failure("libcurl could not start the transfer: \(String(cString: curl_multi_strerror(added)))"))
            return
        }
        active[transfer.handle] = (transfer, completion)
    }

    /// A request held for a connection and given back unsent.
    static var givenBack: CurlResponse {
        var response = failure("given back unsent: it waited for a connection")
        response.givenBack = true
        return response
    }

    /// A response for a transfer that never reached the network (CURLE_FAILED_INIT).
    static func failure(_ message: String) -> CurlResponse {
        CurlResponse(curlCode: Int(CURLE_FAILED_INIT.rawValue), errorMessage: message, responseCode: 0, headers: [], body: [])
    }
}

/// libcurl's process-wide initialisation, done once before the first handle.
enum CurlGlobal {
    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func ensureInitialised() {
        _ = initialised
    }
}
