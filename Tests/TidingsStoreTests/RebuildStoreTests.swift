import Foundation
import GRDB
import Testing
import TidingsCore
@testable import TidingsStore

/// The rebuild's edges: which held events it passes over, and which timers it must not bring back.
@Suite("Store: rebuilding")
struct RebuildStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-rebuild-\(UUID().uuidString)")
    let t0 = Timestamp.parse("2026-11-23T09:00:00Z")!
    let engine = WorkflowEngine(workflows: WorkflowSet(workflows: []), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))

    func store() throws -> Store {
        try Store(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
    }

    @Test func passesOverWhatFailedButNotWhatOnlyGaveUpWaiting() throws {
        let store = try store()
        try store.pool.write { db in
            let rows: [(Int64, String, String?, String)] = [
                (1, "quarantined", nil, "the projector threw"),
                (2, "quarantined", "order:o-1", "\(HeldEventWriter.gaveUp)order o-1 is not known yet (pipeline.park_window ran out)"),
                (3, "quarantined", "order:o-1", "failed when it was released: a key conflict"),
                (4, "waiting", "order:o-2", "order o-2 is not known yet"),
            ]
            for (position, kind, waiting, reason) in rows {
                try db.execute(sql: "INSERT INTO held_events (position, scope, kind, waiting_for, reason, held_at) VALUES (?, '', ?, ?, ?, 0)",
                               arguments: [position, kind, waiting, reason])
            }
            try db.execute(sql: "INSERT INTO held_events (position, scope, kind, reason, held_at) VALUES (5, 'o-9', 'quarantined', 'x', 0)")
            #expect(try Store.failedKeys(db) == [HeldEvent.Key(position: 1), HeldEvent.Key(position: 3), HeldEvent.Key(position: 5, order: "o-9")])
        }
    }

    @Test func aDeadlineThatAlreadyFiredOrWasNeverSetIsNotBroughtBack() throws {
        let store = try store()
        func placed(_ id: String, dispatchBy: String) -> CloudEvent {
            CloudEvent(id: id, source: "urn:test", type: "order.placed", subject: id, time: t0, data: [
                "customer_id": "c-1", "total": 10, "currency": "GBP", "dispatch_by": .string(dispatchBy),
                "items": [["sku": "A", "name": "A", "quantity": 1, "unit_price": 10]],
            ])
        }
        _ = try store.append([placed("o-past", dispatchBy: "2026-11-23T10:00:00Z"), placed("o-due", dispatchBy: "2026-11-23T11:00:00Z"),
                              placed("o-later", dispatchBy: "2026-11-30T10:00:00Z")], now: t0)
        while try store.processBatch(limit: 100, engine: engine, now: t0).processed > 0 {}
        // o-past's timer is gone from the running daemon (it fired, or predates the timers
        // table); o-due's is due but not fired yet.
        try store.pool.write { db in try db.execute(sql: "DELETE FROM timers WHERE subject = 'o-past'") }
        _ = try store.rebuild(engine: engine, now: t0.addingTimeInterval(3 * 3_600))
        let subjects = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT subject FROM timers WHERE type = 'order.dispatch_overdue' ORDER BY subject") }
        #expect(subjects == ["o-due", "o-later"])
    }
}
