import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase a customer's personal data (right to be forgotten), while the log stays append-only.",
        discussion: """
            The customer's key is deleted, so the personal fields sealed with it in the log (name, email, phone, \
            messenger id, what they wrote in a ticket, a shipping address) can never be read again, by the daemon, a rebuild or a replay. \
            Their customer, order and ticket models and timers are purged; their messages keep their states and times, \
            with the address and the context erased, and those not sent yet never will be. The spool's files of their \
            messages are removed. `customer.forgotten` is recorded in the log, and new events about the customer, their \
            orders or their tickets are refused from now on. There is no undo.
            """)

    @OptionGroup var options: ConfigOption

    @Argument(help: "The customer's id, as the events name it (the subject of customer.registered).")
    var customerID: String

    @Flag(help: "Then rewrite the database file (VACUUM), once, for a database from before deleted rows were overwritten. Stop the daemon first.")
    var wipe = false

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let report: Erasure.Report
            switch runtime.config.database {
            case .sqlite(let path):
                let store = try Store(path: path, durability: runtime.config.durability)
                let now = try await ConfigOption.clock(runtime.config, store)()
                report = try Erasure.forget(customerID: customerID, store: store, config: runtime.config, now: now, wipe: wipe)
            case .postgres(let settings):
                guard !wipe else {
                    throw Failure(message: "--wipe rewrites an SQLite file; on PostgreSQL, VACUUM (or autovacuum) reclaims deleted rows", exitCode: 64)
                }
                report = try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                    try await backend.migrate()
                    let log = PostgresLog(backend: backend)
                    let now = try await ConfigOption.clock(runtime.config, PostgresTimers(log: log))()
                    return try await Erasure.forget(customerID: customerID, postgres: log, config: runtime.config, now: now)
                }
            }
            let summary = report.summary
            func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
            var line = """
                forgot customer \(customerID) (customer.forgotten at position \(summary.position)): \
                \(count(summary.orders, "order")), \(count(summary.tickets, "ticket")) and \(count(summary.messages, "message")) erased, \
                \(count(report.spoolFilesRemoved, "spool file")) removed
                """
            if summary.unsent > 0 { line += "; \(count(summary.unsent, "message")) not sent yet will never be" }
            print(line)
            if !report.freeSpaceClean {
                print("""
                    this database was made before deleted rows were overwritten: what was deleted earlier may still be in \
                    its free space. Stop the daemon and run this once with --wipe (it rewrites the file)
                    """)
            }
            if !report.logEmptied {
                print("the write-ahead log could not be emptied now (readers held it); the daemon's next checkpoint overwrites it")
            }
            guard report.spoolFilesLeft.isEmpty else {
                throw Failure(message: "these spool files could not be removed; remove them by hand:\n" + report.spoolFilesLeft.joined(separator: "\n"))
            }
        }
    }
}
