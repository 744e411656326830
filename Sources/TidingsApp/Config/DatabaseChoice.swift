import Foundation
import TidingsPostgres

/// The backend `database.url` names: an SQLite file (the embedded default), or a PostgreSQL
/// database that several instances may share.
public enum DatabaseChoice: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresSettings)

    /// Never the password.
    public var description: String {
        switch self {
        case .sqlite(let path): "SQLite at \(path)"
        case .postgres(let settings): "PostgreSQL at \(settings)"
        }
    }
}

extension Settings {
    /// `database.url` (`DATABASE_URL`): `postgres://...` or `postgresql://...` for PostgreSQL,
    /// `sqlite:PATH` or a bare path for SQLite; unset, `database.path` as before. The URL is read
    /// as a secret (it may carry a password), and `database.password` (a `_file`, the systemd
    /// credential `database-password`) wins over a password inside it.
    func database(path: String) throws -> DatabaseChoice {
        guard let url = try secret("database.url")?.trimmingCharacters(in: .whitespacesAndNewlines), !url.isEmpty else {
            return .sqlite(path: path)
        }
        if PostgresSettings.isPostgresURL(url) {
            do {
                return .postgres(try PostgresSettings(url: url, password: try secret("database.password")))
            } catch let error as PostgresBackendError {
                throw ConfigError(.invalidValue, error.message)
            }
        }
        let file = url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "", options: .anchored) : url
        guard !file.isEmpty, !file.contains("://") else {
            throw ConfigError(.invalidValue, """
                database.url must be postgres://USER@HOST[:PORT]/DATABASE, sqlite:PATH or a file path; got a URL of another kind
                """)
        }
        return .sqlite(path: file)
    }
}
