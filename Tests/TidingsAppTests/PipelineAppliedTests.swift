import Foundation
import Logging
import Testing
@testable import TidingsApp
import TidingsCore
import TidingsDelivery

/// A batch that ingest applied in its own commit counts as the pipeline's: the checkpoint only
/// grows, the dispatcher is rung for what the batch left unclaimed, and the loop is woken only
/// for work the batch left it (its own waits, fan-out, retries), not after every commit.
@Suite("Pipeline: batches applied by ingest")
struct PipelineAppliedTests {
    let engine = WorkflowEngine(workflows: WorkflowSet(workflows: []), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))

    func batch(checkpoint: Int64, _ change: (inout PipelineBatch) -> Void = { _ in }) -> PipelineBatch {
        var batch = PipelineBatch()
        batch.checkpoint = checkpoint
        batch.processed = 1
        change(&batch)
        return batch
    }

    @Test func theCheckpointOnlyGrowsAndTheLoopWakesOnlyForWorkLeftToIt() {
        let dispatcher = Doorbell()
        let pipeline = PipelineService(store: WatchdogTests.FailingStore(), engine: engine, dispatcher: dispatcher, batchSize: 10,
                                       pollInterval: .seconds(60), logger: Logger(label: "applied"), clock: { Date() })
        pipeline.applied(batch(checkpoint: 5) { $0.nextWaitEnd = Date() })
        #expect(pipeline.position.load(ordering: .relaxed) == 5)
        // A wait older than the batch is the loop's already: no wake-up for it.
        #expect(!pipeline.doorbell.takeRing())
        #expect(!dispatcher.takeRing())

        pipeline.applied(batch(checkpoint: 4))
        #expect(pipeline.position.load(ordering: .relaxed) == 5)

        for left in [{ (b: inout PipelineBatch) in b.parked = 1 }, { $0.waiting = 1 }, { $0.fanoutPending = true }, { $0.retriesRequested = true }] {
            pipeline.applied(batch(checkpoint: 6, left))
            #expect(pipeline.doorbell.takeRing())
        }

        // New messages the batch did not claim for the dispatcher ring it; claimed ones do not.
        pipeline.applied(batch(checkpoint: 7) { $0.readyByChannel = [.email: 1] })
        #expect(dispatcher.takeRing())
        pipeline.applied(batch(checkpoint: 8) {
            $0.readyByChannel = [.email: 1]
            $0.readyFirstByChannel = [.email: 1]
            $0.handedOff = [.email: 1]
            $0.handoffRoom = [.email: 16]
        })
        #expect(!dispatcher.takeRing())
        #expect(pipeline.position.load(ordering: .relaxed) == 8)
    }
}
