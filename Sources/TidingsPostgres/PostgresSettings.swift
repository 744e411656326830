import Foundation
import PostgresNIO

/// Where the PostgreSQL backend connects, read from a `postgres://` or `postgresql://` URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`. A password given apart
/// from the URL (a `_file` setting, a systemd credential) wins over one inside it.
public struct PostgresSettings: Sendable, Hashable, CustomStringConvertible {
    /// As libpq spells them. `prefer` and `require` encrypt without checking the server's
    /// certificate; `verify-ca` checks it, `verify-full` the host name as well.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Connections each daemon keeps at most.
    public var maximumConnections: Int

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: TLSMode = .prefer,
                maximumConnections: Int = 8) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
    }

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    public init(url text: String, password: String? = nil) throws {
        guard Self.isPostgresURL(text), let url = URLComponents(string: text) else {
            throw PostgresBackendError(.invalidURL, "database.url is not a PostgreSQL URL: expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        guard let host = url.host, !host.isEmpty else {
            throw PostgresBackendError(.invalidURL, "database.url names no host: expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else {
            throw PostgresBackendError(.invalidURL, "database.url names no user: expected postgres://USER@\(host)/DATABASE")
        }
        let database = String(url.path.drop { $0 == "/" }).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresBackendError(.invalidURL, "database.url names no database: expected postgres://\(user)@\(host)/DATABASE")
        }
        var tls = TLSMode.prefer
        var maximumConnections = 8
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PostgresBackendError(.invalidURL, "database.url: sslmode must be one of \(modes)")
                }
                tls = mode
            case "max_connections":
                guard let count = item.value.flatMap(Int.init), (1...200).contains(count) else {
                    throw PostgresBackendError(.invalidURL, "database.url: max_connections must be a whole number from 1 to 200")
                }
                maximumConnections = count
            default:
                throw PostgresBackendError(.invalidURL, "database.url: unknown parameter \(item.name) (known: sslmode, max_connections)")
            }
        }
        self.init(host: host, port: url.port ?? 5432, user: user, password: password ?? url.password?.removingPercentEncoding,
                  database: database, tls: tls, maximumConnections: maximumConnections)
    }

    /// The URL without its password: what logs and `tidings check` show.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(hostPart):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database,
                                                         tls: clientTLS)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration)
        case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
        }
    }

    /// The same for one connection of its own (`PostgresBackend.probe`).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let connectionTLS: PostgresConnection.Configuration.TLS = switch tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
        case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database,
                                                             tls: connectionTLS)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: break
        }
        return configuration
    }
}
