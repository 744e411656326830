import Foundation
import Logging
import PostgresNIO
import TidingsPostgres

/// The tests' private PostgreSQL cluster (`scripts/testservers/postgres_cluster.sh`): started
/// once per test process on a loopback port, gone when the process exits. Each test takes a
/// database of its own.
public enum PostgresTestCluster {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private static let started = Task<Int, any Error> {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-pg-\(UUID().uuidString).port")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", root.appendingPathComponent("scripts/testservers/postgres_cluster.sh").path, "--port-file", portFile.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return port
            }
            guard process.isRunning else {
                let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw ClusterFailure("the PostgreSQL test cluster did not start: \(said)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterFailure("the PostgreSQL test cluster did not start within 120 s")
    }

    public static let password = "tidings-test"

    public static func settings(database: String) async throws -> PostgresSettings {
        PostgresSettings(host: "127.0.0.1", port: try await started.value, user: "tidings", password: password, database: database,
                         tls: .disable, maximumConnections: 40)
    }

    /// A new, empty database's name.
    public static func newDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await withConnection(to: "postgres") { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test-cluster"))
        }
        return name
    }

    /// The one number a query answers (a count), asked on a connection of its own.
    public static func number(_ sql: String, in database: String) async throws -> Int64 {
        try await withConnection(to: database) { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-cluster"))
                .decode(Int64.self) { return value }
            return 0
        }
    }

    /// The texts a query answers, one per row (keys), asked on a connection of its own.
    public static func texts(_ sql: String, in database: String) async throws -> [String] {
        try await withConnection(to: database) { connection in
            var texts: [String] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-cluster"))
                .decode(String.self) { texts.append(value) }
            return texts
        }
    }

    static func withConnection<Result: Sendable>(to database: String, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let target = try await settings(database: database)
        var configuration = PostgresConnection.Configuration(host: target.host, port: target.port, username: target.user, password: password,
                                                             database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "test-cluster"))
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A new, empty database, migrated; `body` gets it with its pool running.
    public static func withDatabase<Result: Sendable>(_ body: (PostgresBackend) async throws -> Result) async throws -> Result {
        let name = try await newDatabase()
        return try await PostgresBackend.withRunning(try await settings(database: name)) { database in
            try await database.migrate()
            return try await body(database)
        }
    }
}

public struct ClusterFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
