import Foundation
import Logging
import TidingsCore
@testable import TidingsPostgres

/// The tests' private PostgreSQL cluster (`scripts/testservers/postgres_cluster.sh`): started
/// once per test process on a loopback port, gone when the process exits. Each test takes a
/// database of its own.
enum PostgresTestCluster {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

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

    static func settings(database: String) async throws -> PostgresSettings {
        PostgresSettings(host: "127.0.0.1", port: try await started.value, user: "tidings", password: "tidings-test", database: database,
                         tls: .disable, maximumConnections: 40)
    }

    /// A new, empty database, migrated; `body` gets it with its pool running.
    static func withDatabase<Result: Sendable>(_ body: @Sendable (PostgresBackend) async throws -> Result) async throws -> Result {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await PostgresBackend.withRunning(try await settings(database: "postgres")) { admin in
            try await admin.connection("creating a test database") { connection in
                try await connection.query(.init(unsafeSQL: "CREATE DATABASE \(name)"), logger: admin.logger)
            }
        }
        return try await PostgresBackend.withRunning(try await settings(database: name)) { database in
            try await database.migrate()
            return try await body(database)
        }
    }
}

struct ClusterFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
