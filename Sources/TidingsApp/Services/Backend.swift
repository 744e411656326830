import Foundation
import ServiceLifecycle
import TidingsCore
import TidingsPostgres
import TidingsStore

/// What the daemon's services run on: the storage protocols, from the SQLite store or the
/// PostgreSQL backend, and what only one of them has.
struct Backend: Sendable {
    var log: any EventLog
    var pipeline: any PipelineStore
    var timers: any TimerStore
    var outbox: any OutboxQueue
    var status: any StatusSource
    var reads: any ReadQueries
    var retention: any ContentRetention
    /// The SQLite store: the HTTP reads, retention and the status page use it; nil on PostgreSQL.
    var store: Store?
    /// Whether a group commit applies its own events when the pipeline is caught up (SQLite:
    /// one writer, one transaction for both).
    var inline: Bool
    var abandonDeadAppends: @Sendable () throws -> Int
    /// Runs beside the daemon's services, from before the first until after the last (the pool).
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    /// Where, for the log; never a password.
    var description: String
}

/// The PostgreSQL pool as a service: it serves connections until it is cancelled.
struct PostgresPoolService: Service {
    let backend: PostgresBackend

    func run() async throws {
        await backend.run()
    }
}
