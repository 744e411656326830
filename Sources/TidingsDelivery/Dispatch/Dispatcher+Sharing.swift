import Foundation
import TidingsCore

extension Dispatcher {
    /// How often a dispatcher tells the others it is alive (each takes a share of the rate
    /// limits) and hears their pauses, when its breakers have nothing new to tell.
    static let shareInterval: Duration = .seconds(1)

    /// The report to send with the next write: at once when a breaker changed, else once a
    /// `shareInterval`; nil when not due, or when no other instance shares the outbox.
    func takeFlowReport() -> FlowReport? {
        gates.withLock { book in
            guard book.shareDue else { return nil }
            defer {
                book.report = FlowReport()
                book.sharedAt = .now
            }
            return book.report
        }
    }

    /// Whether an exchange is due (a breaker changed, or a `shareInterval` passed): a reason to
    /// write even with nothing to record or claim, so that a dispatcher waiting on its share of
    /// a slow rate limit still counts among the live ones.
    func shareDue() -> Bool {
        gates.withLock { $0.shareDue }
    }

    /// Exchanges the report with the other instances and takes on what they agree on: this
    /// instance's share of each rate limit, and the pauses their breakers started. A failed
    /// exchange keeps the report for the next one; the gates stay as they are meanwhile.
    func share(_ report: FlowReport, now: Date) async {
        let shared: SharedFlow?
        do {
            shared = try await queue.shareFlow(report, owner: owner, now: now)
        } catch {
            gates.withLock { book in book.report.keep(report) }
            logger.warning("cannot share rate limits and pauses with the other instances; kept for the next write",
                           metadata: ["error": "\(error)"])
            return
        }
        // The pauses are weighed against the clock as it is now: the exchange may have taken a
        // while, and a pause that ended meanwhile (this instance's own, probed since) is over.
        let current = clock()
        gates.withLock { book in
            guard let shared else {
                book.sharing = false
                return
            }
            if book.instances != shared.instances {
                logger.notice("sharing the channels' rate limits", metadata: ["instances": "\(shared.instances)"])
                book.instances = shared.instances
            }
            for channel in Array(book.gates.keys) {
                guard var gate = book.gates[channel] else { continue }
                if gate.adopt(shared, for: channel, now: current) { breakerChanged(channel, gate.breaker, byAnotherInstance: true) }
                book.gates[channel] = gate
            }
        }
    }
}
