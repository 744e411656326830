import Foundation
import GRDB
import TidingsCore

extension Store {
    /// Appends a group commit's events and, when the pipeline had applied everything before
    /// them, applies them as a pipeline batch in the same transaction (`InlineProjection`).
    public func append(batches: [[EncodedEvent]], now: Date, projecting inline: InlineProjection) async throws -> ([AppendResult], PipelineBatch?) {
        let count = batches.reduce(0) { $0 + $1.count }
        guard count <= inline.maxEvents else { return (try await append(batches: batches, now: now), nil) }
        let (results, applied) = try await write("appending \(count) events") { [models, sealingKeys] db in
            let before = try Self.head(db)
            let results = try Self.append(db, batches, now: now, keys: sealingKeys)
            guard results.contains(where: { $0.appended > 0 }), try Self.checkpoint(db, Self.pipelineCheckpoint) == before else {
                return (results, Result<PipelineBatch?, any Error>.success(nil))
            }
            return (results, try Self.applyInline(db, inline, count: count, models: models))
        }
        // Told once the events are stored, outside the writer: a transaction that failed as a
        // whole stored nothing, and that is the append's error, not a declined batch.
        switch applied {
        case .success(let batch): return (results, batch)
        case .failure(let error):
            inline.declined(error)
            return (results, nil)
        }
    }

    /// The batch, in a savepoint: an event that cannot be applied (or any failure) undoes the
    /// batch alone, and the events stay stored for the pipeline, which quarantines what fails
    /// and says why. Fan-out is left to the pipeline too, which learns of it from the batch.
    /// Fails with why the batch was undone; throws only when the savepoint itself failed,
    /// which fails the whole transaction.
    static func applyInline(_ db: Database, _ inline: InlineProjection, count: Int, models: ModelCache) throws -> Result<PipelineBatch?, any Error> {
        var applied: Result<PipelineBatch?, any Error> = .success(nil)
        try db.inSavepoint {
            do {
                var run = try PipelineRun(db: db, engine: inline.engine, now: inline.now(), cache: models)
                var batch = try run.run(limit: count, fanoutLimit: 0)
                batch.fanoutPending = try fanoutPending(db)
                // Last: once claims are handed over at commit, nothing here may fail.
                if let handoff = inline.handoff { try handOver(db, &batch, to: handoff, now: run.now) }
                models.commit(run.loaded, after: db)
                applied = .success(batch)
                return .commit
            } catch {
                applied = .failure(error)
                return .rollback
            }
        }
        return applied
    }
}
