import Foundation
import Synchronization
import TidingsCore

/// The daemon's one idea of "now", handed to every service. Normally the system clock; with
/// `clock.source: database` it is a simulated time kept in the database and moved forward by
/// `tidings clock set`, so a demo or a rehearsal can live through days in seconds.
public final class DaemonClock: Sendable {
    public enum Source: String, Sendable, CaseIterable {
        case system, database
    }

    public let source: Source
    /// The simulated time in milliseconds since 1970; 0 until the database names one.
    private let simulated = Atomic<Int64>(0)

    public init(source: Source) {
        self.source = source
    }

    public func now() -> Date {
        simulatedTime ?? Date()
    }

    /// The simulated time, once the database names one.
    public var simulatedTime: Date? {
        guard source == .database else { return nil }
        let millis = simulated.load(ordering: .relaxed)
        return millis == 0 ? nil : Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// Reads the simulated time from the database; returns whether it moved.
    @discardableResult
    public func refresh(from store: any TimerStore) async throws -> Bool {
        guard source == .database, let time = try await store.simulatedTime() else { return false }
        let millis = Int64((time.timeIntervalSince1970 * 1000).rounded())
        return simulated.exchange(millis, ordering: .relaxed) != millis
    }
}
