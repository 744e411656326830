/// Several `CurlWorker`s, each with its own multi handle, queue and share of the connections,
/// each request going to the least busy one. A worker's queue runs on one thread at a time, so
/// more than one lets libcurl's and the kernel's socket work use more than one core.
///
/// For SMTP: libcurl waits for the relay's reply to a message's end (the `250` after the
/// final `.`) inside `curl_multi_perform`, blocking, so while one session waits no other
/// transfer on that multi handle moves. One worker for sixteen sessions stalled once per email
/// for all sixteen (BENCHMARKS.md, "Where an email's time goes"); spread over workers, a wait
/// holds up only its worker's share.
public final class CurlWorkerPool: Sendable {
    public let workers: [CurlWorker]

    /// - Parameters:
    ///   - connections: connections to the server in all, shared out as evenly as can be.
    ///   - perWorker: connections a worker drives at most.
    public init(label: String, connections: Int, perWorker: Int, holdLimit: Duration = .seconds(1)) throws {
        let connections = max(1, connections)
        let perWorker = max(1, perWorker)
        let count = (connections + perWorker - 1) / perWorker
        workers = try (0..<count).map { index in
            let share = connections / count + (index < connections % count ? 1 : 0)
            return try CurlWorker(label: "\(label).\(index)", maxConnectionsPerHost: share, holdLimit: holdLimit)
        }
    }

    /// Connections to the server in all, over every worker.
    public var connections: Int { workers.reduce(0) { $0 + $1.connections } }

    /// Starts the request on the worker with the fewest requests handed over and unanswered;
    /// `completion` gets the response on that worker's queue (`CurlWorker.start`).
    public func start(_ request: CurlRequest, mayGiveBack: Bool = false, then completion: @escaping CurlWorker.Completion) {
        var chosen = workers[0]
        var least = chosen.load
        for worker in workers.dropFirst() where least > 0 {
            let load = worker.load
            if load < least {
                chosen = worker
                least = load
            }
        }
        chosen.start(request, mayGiveBack: mayGiveBack, then: completion)
    }

    /// Runs one transfer and returns its response (`CurlWorker.perform`).
    public func perform(_ request: CurlRequest, mayGiveBack: Bool = false) async -> CurlResponse {
        await withCheckedContinuation { (continuation: CheckedContinuation<CurlResponse, Never>) in
            start(request, mayGiveBack: mayGiveBack) { continuation.resume(returning: $0) }
        }
    }

    /// Every worker gives back what it has not started (`CurlWorker.giveBack`).
    public func giveBack() {
        for worker in workers { worker.giveBack() }
    }

    /// Every worker fails what has not finished and stops (`CurlWorker.close`).
    public func close() {
        for worker in workers { worker.close() }
    }
}
