import Foundation

/// What an append did: the positions of the new events, how many were already stored, and
/// how many are staged by a `tidings append` still running. Those are not stored yet: if that
/// append is abandoned they are gone, so the sender must send them again later.
public struct AppendResult: Sendable, Hashable {
    public var positions: [Int64]
    public var alreadyStored: Int
    public var stagedElsewhere: Int
    /// Why none of the events was stored, when one is about a forgotten customer
    /// (`tidings forget`): the request is refused whole, as an invalid one is.
    public var refusal: String?

    public init(positions: [Int64], alreadyStored: Int, stagedElsewhere: Int = 0) {
        self.positions = positions
        self.alreadyStored = alreadyStored
        self.stagedElsewhere = stagedElsewhere
    }

    public var appended: Int { positions.count }
}

/// The append-only log, as ingest writes it. Async, so that a network database can conform
/// without blocking a thread.
public protocol EventLog: Sendable {
    /// Appends several requests' events in ONE durable transaction (group commit), skipping
    /// events whose `(source, id)` is stored already; each request gets its own result.
    func append(batches: [[CloudEvent]], now: Date) async throws -> [AppendResult]
}
