import Foundation
import Testing
import TidingsCore
@testable import TidingsPostgres

/// The timer changes a batch folds per timer and writes at its end do what applying its
/// actions one by one would have done, whatever the actions and the table before.
@Suite("PostgreSQL: a batch's timer changes")
struct PostgresTimerChangesTests {
    typealias Table = [PostgresTimerChanges.TimerKey: Double]

    /// One action at a time, as the SQLite backend applies them.
    static func sequential(_ actions: [TimerAction], _ table: Table) -> Table {
        var table = table
        for action in actions {
            switch action {
            case .schedule(let timer): table[.init(type: timer.type, subject: timer.subject)] = timer.dueAt.timeIntervalSince1970
            case .cancel(let type, let subject, let dueAt):
                let key = PostgresTimerChanges.TimerKey(type: type, subject: subject)
                if dueAt == nil || table[key] == dueAt?.timeIntervalSince1970 { table[key] = nil }
            }
        }
        return table
    }

    /// What `write` does with the folded changes: deletes, conditional deletes, then upserts.
    static func folded(_ actions: [TimerAction], _ table: Table) -> Table {
        var changes = PostgresTimerChanges()
        for action in actions { changes.apply(action, position: 1) }
        var table = table
        for (key, change) in changes.changes {
            switch change {
            case .delete, .deleteStored(dueAt: nil): table[key] = nil
            case .deleteStored(let dues?): if let due = table[key], dues.contains(due) { table[key] = nil }
            case .upsert(let timer, _): table[key] = timer.dueAt.timeIntervalSince1970
            }
        }
        return table
    }

    @Test func foldingGivesWhatOneByOneGives() {
        var generator = SystemRandomNumberGenerator()
        let subjects = ["o-1", "o-2"], dues = [100.0, 200.0, 300.0]
        for _ in 0..<5_000 {
            var table: Table = [:]
            for subject in subjects where Bool.random(using: &generator) {
                table[.init(type: "order.delivery_overdue", subject: subject)] = dues.randomElement(using: &generator)
            }
            let actions: [TimerAction] = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                let subject = subjects.randomElement(using: &generator)!
                let due = Date(timeIntervalSince1970: dues.randomElement(using: &generator)!)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: return .schedule(DeadlineTimer(type: "order.delivery_overdue", subject: subject, dueAt: due))
                case 1: return .cancel(type: "order.delivery_overdue", subject: subject, dueAt: due)
                default: return .cancel(type: "order.delivery_overdue", subject: subject, dueAt: nil)
                }
            }
            #expect(Self.folded(actions, table) == Self.sequential(actions, table), "\(actions) over \(table)")
        }
    }
}
