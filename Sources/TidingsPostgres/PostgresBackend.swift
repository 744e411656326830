import Foundation
import Logging
import PostgresNIO

/// One PostgreSQL database shared by every Tidings instance that points at it: a connection
/// pool, the migrations, and the transactions the backend's parts run in.
///
/// The pool works only while `run()` does: the daemon runs it as a service of its group, a
/// command inside `PostgresBackend.withRunning`.
public final class PostgresBackend: Sendable {
    public let settings: PostgresSettings
    let client: PostgresClient
    let logger: Logger

    public init(settings: PostgresSettings, logger: Logger = Logger(label: "tidings.postgres")) {
        self.settings = settings
        self.logger = logger
        client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
    }

    /// Serves connections until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with the pool serving, then stops it: for commands, which have no service group.
    public static func withRunning<Result: Sendable>(_ settings: PostgresSettings, logger: Logger = Logger(label: "tidings.postgres"),
                                                     _ body: (PostgresBackend) async throws -> Result) async throws -> Result {
        let database = PostgresBackend(settings: settings, logger: logger)
        // The body waits until the pool's run has begun: a lease asked for before it would wait
        // the same, but with a warning in the log.
        let (started, starting) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                starting.finish()
                await database.run()
                return nil
            }
            defer { group.cancelAll() }
            for await _ in started {}
            return try await body(database)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// Not PostgresNIO's `withTransaction`: its BEGIN, COMMIT and ROLLBACK would wait forever on a
    /// connection the server closed (see `PostgresConnection.run`).
    @discardableResult
    func transaction<Result: Sendable>(_ what: String, _ code: PostgresBackendError.Code = .writeFailed,
                                       _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await withLease(what) { connection in
                try await connection.run("BEGIN", logger: logger)
                let result: Result
                do {
                    result = try await body(connection)
                } catch {
                    do {
                        try await connection.run("ROLLBACK", logger: logger)
                    } catch {
                        // Never hand the pool a connection that may still be inside the transaction.
                        try? await connection.close()
                    }
                    // An error of our own (an event the pipeline sets aside, a refusal) comes out as it went in.
                    throw error is PSQLError ? error : BodyError(error: error)
                }
                try await connection.run("COMMIT", logger: logger)
                return result
            }
        } catch let error as BodyError {
            throw error.error
        } catch {
            throw PostgresBackendError.wrapping(error, code, what)
        }
    }

    /// What a transaction's body threw, passed through as it is.
    private struct BodyError: Error {
        var error: any Error
    }

    /// Runs `body` on one connection, outside a transaction.
    func connection<Result: Sendable>(_ what: String, _ code: PostgresBackendError.Code = .readFailed,
                                      _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await withLease(what) { connection in try await body(connection) }
        } catch {
            throw PostgresBackendError.wrapping(error, code, what)
        }
    }

    /// How long a caller waits for a connection before it hears that there is none.
    static let connectionWait: Duration = .seconds(5)

    /// The pool waits for a connection for as long as the database is gone (or every
    /// connection is busy); its callers (an HTTP request above all, which must be answered)
    /// hear so within `connectionWait` instead, and retry as they would after any failed query.
    /// One lease: a task holds it and lends the connection to `body`, which runs here, unbounded;
    /// only the wait for the lease is bounded (checking first and leasing again left the second
    /// wait unbounded).
    private func withLease<Result: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let (lent, lend) = AsyncThrowingStream.makeStream(of: PostgresConnection.self)
        let done = Signal<Void>()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await self.client.withConnection { connection in
                        lend.yield(connection)
                        lend.finish()
                        // Not given back on cancellation (a shutdown): only once `body` is done with it.
                        await done.wait()
                    }
                } catch {
                    lend.finish(throwing: error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: Self.connectionWait)
                // After the lease this changes nothing: the stream has finished.
                lend.finish(throwing: PostgresBackendError(.cannotConnect, """
                    \(what): no connection to PostgreSQL within \(Self.connectionWait) (the server is unreachable or refuses connections, \
                    or every connection of database.url's max_connections is busy); retried
                    """))
            }
            defer {
                done.send(())
                group.cancelAll()
            }
            var connections = lent.makeAsyncIterator()
            guard let connection = try await connections.next() else { throw CancellationError() }
            return try await body(connection)
        }
    }

    /// What `tidings check` reports of the server.
    public struct Standing: Sendable {
        public var serverVersion: String
        public var migrations: [String]
        public var events: Int64
        public var unsequenced: Int64
    }

    /// Connects, brings the schema up to date, and says what it found; gives up after
    /// `timeout` (the pool itself would go on trying to connect).
    public func check(timeout: Duration = .seconds(10)) async throws -> Standing {
        guard let standing = try await answer(within: timeout, { try await self.check() }) else {
            throw PostgresBackendError(.cannotConnect, """
                no answer from PostgreSQL at \(settings.host):\(settings.port) within \(timeout): is the server running, \
                and does it accept connections from here (listen_addresses, pg_hba.conf)?
                """)
        }
        return standing
    }

    /// One connection of its own, opened and closed: the pool would retry a refused or failed
    /// connection quietly, so this says at once what is wrong (refused, unknown role, wrong password).
    public func probe() async throws {
        do {
            let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(),
                                                                  configuration: try settings.connectionConfiguration(), id: 0, logger: logger).get()
            try await connection.close()
        } catch {
            throw PostgresBackendError.wrapping(error, .cannotConnect, "cannot connect to PostgreSQL at \(settings.host):\(settings.port)")
        }
    }

    private func check() async throws -> Standing {
        try await probe()
        let applied = try await migrate()
        return try await connection("reading the server's version and the log's size") { connection in
            var version = ""
            for try await text in try await connection.run("SHOW server_version", logger: logger).decode(String.self) { version = text }
            var events: Int64 = 0
            var unsequenced: Int64 = 0
            let counts = try await connection.run("SELECT COUNT(*), COUNT(*) FILTER (WHERE position IS NULL) FROM events", logger: logger)
            for try await (all, waiting) in counts.decode((Int64, Int64).self) {
                events = all
                unsequenced = waiting
            }
            return Standing(serverVersion: version, migrations: applied, events: events, unsequenced: unsequenced)
        }
    }
}

extension PostgresBindings {
    /// Bound values for a query whose text is built (`PostgresQuery(unsafeSQL:binds:)`): `$1`, `$2`, ... in order.
    static func of(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }
}
