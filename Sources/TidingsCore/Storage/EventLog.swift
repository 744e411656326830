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
    /// Events stored whose positions are given later, after they commit (PostgreSQL): counted
    /// as appended, listed in `positions` never.
    public var positionsLater = 0

    public init(positions: [Int64], alreadyStored: Int, stagedElsewhere: Int = 0) {
        self.positions = positions
        self.alreadyStored = alreadyStored
        self.stagedElsewhere = stagedElsewhere
    }

    public var appended: Int { positions.count + positionsLater }
}

/// The pipeline's work on a group commit's own events, done in its transaction when the
/// pipeline has applied everything before them: a complaint's acknowledgement is then written
/// and claimed by the time the request is answered, with one commit for the append and the
/// batch instead of one each.
public struct InlineProjection: Sendable {
    public var engine: WorkflowEngine
    public var now: @Sendable () -> Date
    /// The local dispatcher's, when it runs: the batch claims its acknowledgements for it.
    public var handoff: ClaimHandoff?
    /// A larger group is left to the pipeline, so its requests are not held for its batch.
    public var maxEvents: Int
    /// Told when applying a group's events failed and was undone: the events stay stored and
    /// the pipeline applies them (and quarantines what fails, saying why), so nothing is lost;
    /// but a fault that failed every such batch would otherwise show only as lost speed.
    public var declined: @Sendable (any Error) -> Void

    public init(engine: WorkflowEngine, now: @escaping @Sendable () -> Date, handoff: ClaimHandoff?, maxEvents: Int = 200,
                declined: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.engine = engine
        self.now = now
        self.handoff = handoff
        self.maxEvents = maxEvents
        self.declined = declined
    }
}

/// The append-only log, as ingest writes it. Async, so that a network database can conform
/// without blocking a thread.
public protocol EventLog: Sendable {
    /// The events encoded, and their personal fields sealed, where the backend can do that
    /// ahead of its writer (on the request's own task, in parallel with other requests): the
    /// writer then only checks each key. What cannot be done ahead is left to the writer.
    func prepare(_ events: [CloudEvent]) -> [EncodedEvent]
    /// Appends several requests' events in ONE durable transaction (group commit), skipping
    /// events whose `(source, id)` is stored already; each request gets its own result.
    func append(batches: [[EncodedEvent]], now: Date) async throws -> [AppendResult]
    /// The same, and in the same transaction the new events applied as a pipeline batch, when
    /// the pipeline had applied every event before them. The batch is nil when it was not
    /// applied: the pipeline was behind, the group was too large, or an event could not be
    /// applied (the pipeline then does it, and quarantines what fails; the events are stored
    /// either way).
    func append(batches: [[EncodedEvent]], now: Date, projecting: InlineProjection) async throws -> ([AppendResult], PipelineBatch?)
}

extension EventLog {
    /// Nothing done ahead: the writer encodes and seals.
    public func prepare(_ events: [CloudEvent]) -> [EncodedEvent] {
        events.map(EncodedEvent.init(unencoded:))
    }

    /// A log that never applies events itself (a backend whose pipeline runs elsewhere).
    public func append(batches: [[EncodedEvent]], now: Date, projecting: InlineProjection) async throws -> ([AppendResult], PipelineBatch?) {
        (try await append(batches: batches, now: now), nil)
    }

    /// Events as they came, for commands and tests: prepared here, then appended.
    public func append(batches: [[CloudEvent]], now: Date) async throws -> [AppendResult] {
        try await append(batches: batches.map(prepare), now: now)
    }

    /// Events as they came, applied inline when they can be (tests).
    public func append(batches: [[CloudEvent]], now: Date, projecting: InlineProjection) async throws -> ([AppendResult], PipelineBatch?) {
        try await append(batches: batches.map(prepare), now: now, projecting: projecting)
    }
}
