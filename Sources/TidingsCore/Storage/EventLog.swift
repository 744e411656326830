import Foundation

/// What an append did: the positions of the new events, and how many were already stored.
public struct AppendResult: Sendable, Hashable {
    public var positions: [Int64]
    public var alreadyStored: Int

    public init(positions: [Int64], alreadyStored: Int) {
        self.positions = positions
        self.alreadyStored = alreadyStored
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
