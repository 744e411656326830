import Foundation
import Logging
import TidingsCore
import TidingsPostgres
import TidingsStore

/// `tidings export` and `tidings import`: the log moved between databases of either backend
/// as CloudEvents NDJSON (`LogExport`).
public enum LogTransfer {
    /// What an export wrote or an import loaded.
    public struct Summary: Sendable {
        public var events = 0
        public var alreadyStored = 0
        /// The read models and timers the import made.
        public var rebuilt: Models?

        public struct Models: Sendable {
            public var customers: Int
            public var orders: Int
            public var tickets: Int
            public var timers: Int
        }
    }

    static let page = 2_000

    /// Writes the log, up to its head when the export began, in its order.
    public static func export(_ database: DatabaseChoice, durability: Store.Durability, to write: ([UInt8]) throws -> Void) async throws -> Summary {
        var summary = Summary()
        var buffer: [UInt8] = []
        func emit(_ event: StoredEvent) throws {
            buffer += try LogExport.line(event)
            summary.events += 1
            if buffer.count >= 1 << 20 {
                try write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        /// The pages after each position, up to `head`.
        func walk<Failure: Error>(to head: Int64, _ page: (Int64) async throws -> [Result<StoredEvent, Failure>]) async throws {
            var after: Int64 = 0
            while after < head {
                let events = try await page(after)
                guard !events.isEmpty else { return }
                for result in events {
                    let event = try readable(result)
                    guard event.position <= head else { return }
                    try emit(event)
                    after = event.position
                }
            }
        }
        switch database {
        case .sqlite(let path):
            let store = try Store(path: path, durability: durability)
            try await walk(to: try await store.head()) { try store.storedEvents(after: $0, limit: Self.page) }
        case .postgres(let settings):
            try await PostgresBackend.withRunning(settings) { database in
                try await database.migrate()
                let log = PostgresLog(backend: database)
                while try await log.sequence() > 0 {}
                try await walk(to: try await log.head()) { try await log.events(after: $0, limit: Self.page) }
            }
        }
        if !buffer.isEmpty { try write(buffer) }
        return summary
    }

    /// An unreadable event stops the export: a file without it would look whole.
    static func readable<Failure: Error>(_ result: Result<StoredEvent, Failure>) throws -> StoredEvent {
        do {
            return try result.get()
        } catch {
            throw TransferError("\(error); the export stops there, as a file without that event would look complete")
        }
    }

    /// Loads an export into a database whose log is empty, all of it or none. On SQLite the
    /// history then counts as applied (its messages went out from the database it came from)
    /// and the read models and timers are rebuilt from it, so nothing is sent again.
    public static func importLog(_ lines: LineReader, into runtime: Runtime, now: Date) async throws -> Summary {
        let chunks = Chunks(lines: lines)
        switch runtime.config.database {
        case .sqlite(let path):
            guard !DaemonLock.isHeld(databasePath: path) else {
                throw TransferError("tidings serve is running on \(path): stop it first, and import only into a new database")
            }
            let store = try Store(path: path, durability: runtime.config.durability)
            let head = try await store.head()
            guard head == 0, try store.appendsInProgress().isEmpty else {
                throw TransferError("the log at \(path) is not empty (\(head) events): import only into a new database")
            }
            let id = UUID().uuidString.lowercased()
            let lock = try AppendLock(databasePath: path, id: id)
            var staged = try store.beginAppend(id: id, now: now)
            do {
                while let chunk = try chunks.next() {
                    try staged.append(chunk.map(\.event), recordedAt: chunk.map(\.recordedAt), now: now)
                }
                try staged.finish()
            } catch {
                try? staged.abandon()
                throw TransferError("imported nothing: \(error)")
            }
            withExtendedLifetime(lock) {}
            var summary = Summary(events: staged.appended, alreadyStored: staged.alreadyStored)
            try store.skipPipeline(to: try await store.head())
            let rebuilt = try store.rebuild(engine: runtime.engine, now: now)
            summary.rebuilt = Summary.Models(customers: rebuilt.customers, orders: rebuilt.orders, tickets: rebuilt.tickets, timers: rebuilt.timers)
            return summary
        case .postgres(let settings):
            return try await PostgresBackend.withRunning(settings) { database in
                try await database.migrate()
                let imported: PostgresImport
                do {
                    imported = try await PostgresPipeline(log: PostgresLog(backend: database)).importLog({ try chunks.next() },
                                                                                                         engine: runtime.engine, now: now)
                } catch {
                    throw TransferError("imported nothing: \(error)")
                }
                return Summary(events: imported.appended, alreadyStored: imported.alreadyStored, rebuilt: Summary.Models(
                    customers: imported.customers, orders: imported.orders, tickets: imported.tickets, timers: imported.timers))
            }
        }
    }

    /// An export's lines as chunks of events with their recording times.
    final class Chunks: @unchecked Sendable {
        // @unchecked: used by one task at a time, the import's, one chunk after another.
        let lines: LineReader

        init(lines: LineReader) { self.lines = lines }

        func next() throws -> [(event: CloudEvent, recordedAt: Date)]? {
            var chunk: [(event: CloudEvent, recordedAt: Date)] = []
            while chunk.count < LogTransfer.page, let line = try lines.next() {
                chunk.append(try LogExport.event(line: line, number: lines.number))
            }
            return chunk.isEmpty ? nil : chunk
        }
    }
}

public struct TransferError: DomainError {
    public enum Code: String, Sendable { case refused = "transfer.refused" }

    public var code = Code.refused
    public var message: String

    init(_ message: String) { self.message = message }
}
