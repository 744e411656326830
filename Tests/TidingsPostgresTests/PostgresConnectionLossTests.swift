import Foundation
import Logging
import PostgresNIO
import Testing
import TidingsTestSupport
@testable import TidingsPostgres

/// PostgresNIO 1.33 drops a query written to a connection after the server closed it (the
/// channel's handlers are gone, and nothing fails the query's promise): its caller would wait
/// forever. A pipeline batch busy between two queries when the database went away did exactly
/// that, and the instance never projected again. Our queries and transactions check first.
@Suite("PostgreSQL: a connection the server closes", .timeLimit(.minutes(2)))
struct PostgresConnectionLossTests {
    @Test func aTransactionWhoseConnectionClosesFailsInsteadOfWaiting() async throws {
        try await PostgresTestCluster.withDatabase { database in
            // A task of its own (`answer(within:)`), so that a query that never returns fails the
            // test instead of hanging the suite.
            let result = try await answer(within: .seconds(30)) { () async -> String in
                do {
                    try await database.transaction("a transaction that loses its connection") { connection in
                        var pid: Int32 = 0
                        for try await value in try await connection.run("SELECT pg_backend_pid()", logger: database.logger).decode(Int32.self) {
                            pid = value
                        }
                        _ = try await PostgresTestCluster.number("SELECT count(pg_terminate_backend(\(pid)))", in: "postgres")
                        // The channel is closed and its handlers removed: what a batch busy
                        // projecting between two queries finds.
                        try? await connection.closeFuture.get()
                        try await connection.run("SELECT 1", logger: database.logger)
                    }
                    return "committed"
                } catch let error as PostgresBackendError {
                    return error.code.rawValue
                } catch {
                    return "\(error)"
                }
            }
            #expect(result == PostgresBackendError.Code.cannotConnect.rawValue, "the transaction returned \(result ?? "nothing within 30 s")")
            // The pool goes on with a new connection.
            let answer = try await database.connection("reading after the loss") { connection in
                var one = 0
                for try await value in try await connection.run("SELECT 1", logger: database.logger).decode(Int.self) { one = value }
                return one
            }
            #expect(answer == 1)
        }
    }

    /// The wait for a connection is bounded even when the pool is busy, and a connection stays
    /// with its transaction until the transaction is done, even when its task is cancelled
    /// (a shutdown): handed to another caller meanwhile, two transactions would share it.
    @Test func aBusyPoolAnswersWithinTheWaitAndNeverLendsAConnectionTwice() async throws {
        var settings = try await PostgresTestCluster.settings(database: try await PostgresTestCluster.newDatabase())
        settings.maximumConnections = 1
        try await PostgresBackend.withRunning(settings) { database in
            try await database.migrate()
            let (holding, held) = AsyncStream.makeStream(of: Void.self)
            let (finishing, finish) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await database.transaction("holding the only connection") { connection in
                    held.yield()
                    // Ends only when the test says so, cancelled or not.
                    await Task { for await _ in finishing {} }.value
                    for try await one in try await connection.run("SELECT 1", logger: database.logger).decode(Int.self) { #expect(one == 1) }
                }
            }
            for await _ in holding { break }
            holder.cancel()
            let started = ContinuousClock.now
            await #expect(throws: PostgresBackendError.self) {
                try await database.connection("waiting for the busy pool") { _ in }
            }
            #expect(ContinuousClock.now - started < PostgresBackend.connectionWait + .seconds(5))
            finish.finish()
            // The holder's own query may fail: its task was cancelled.
            _ = await holder.result
            // Given back once done: the next caller has it.
            try await database.connection("after the holder") { connection in
                for try await one in try await connection.run("SELECT 1", logger: database.logger).decode(Int.self) { #expect(one == 1) }
            }
        }
    }

    /// The check holds only if every query goes through it.
    @Test func everyQueryOfTheBackendIsChecked() throws {
        let sources = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Sources/TidingsPostgres").standardized
        var unchecked: [String] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: sources.path()).filter { $0.hasSuffix(".swift") }
        #expect(names.count > 20, "read \(sources.path())")
        for name in names {
            let text = try String(contentsOf: sources.appending(path: name), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(".query(") && !line.contains("self.query(query") || line.contains("withTransaction(") {
                unchecked.append("\(name):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(unchecked.isEmpty, "queries that bypass PostgresConnection.run: \(unchecked)")
    }
}
