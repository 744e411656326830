import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `query`, or fails at once if the server has closed the connection. PostgresNIO
    /// 1.33 drops a query written after the close (the channel's handlers are gone, and nothing
    /// fails the query's promise), so its caller would wait forever: a pipeline batch that was
    /// projecting between two queries when the database went away did, and its instance never
    /// projected again (`PostgresConnectionLossTests`). Every query of the backend goes here.
    @discardableResult
    func run(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        guard !isClosed else { throw PostgresBackendError.connectionClosed }
        return try await self.query(query, logger: logger, file: file, line: line)
    }
}

extension PostgresBackendError {
    static let connectionClosed = PostgresBackendError(.cannotConnect, """
        the connection to PostgreSQL was closed (the server ended it, restarted, or became unreachable); retried on a new one
        """)
}
