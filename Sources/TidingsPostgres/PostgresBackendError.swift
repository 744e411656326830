import PostgresNIO
import TidingsCore

/// What went wrong with the PostgreSQL backend, said so an operator can act on it.
public struct PostgresBackendError: DomainError {
    public enum Code: String, Sendable {
        case invalidURL = "postgres.invalid_url"
        case cannotConnect = "postgres.cannot_connect"
        case migrationFailed = "postgres.migration_failed"
        case writeFailed = "postgres.write_failed"
        case readFailed = "postgres.read_failed"
        case unreadableEvent = "postgres.unreadable_event"
        /// What was asked cannot be done as asked (a customer forgotten already, or unknown).
        case invalidRequest = "postgres.invalid_request"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A driver error with what we were doing. PostgreSQL's own message is kept (it names the
    /// table, the constraint or the role), never the query's bound values.
    static func wrapping(_ error: any Error, _ code: Code, _ what: String) -> PostgresBackendError {
        if let error = error as? PostgresBackendError { return error }
        if let error = error as? PSQLError {
            if let server = error.serverInfo, let text = server[.message] {
                let state = server[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return PostgresBackendError(code, "\(what): PostgreSQL said: \(text)\(state)")
            }
            if error.code == .connectionError || error.code == .serverClosedConnection || error.code == .clientClosedConnection {
                let cause = error.underlying.map { ": \($0)" } ?? ""
                return PostgresBackendError(.cannotConnect, "\(what): the connection to PostgreSQL failed or closed\(cause); is the server running and reachable?")
            }
            return PostgresBackendError(code, "\(what): \(String(describing: error.code))")
        }
        return PostgresBackendError(code, "\(what): \(error)")
    }
}
