import Foundation

/// A private PostgreSQL 15 cluster on loopback (`scripts/testservers/postgres_cluster.sh`, as
/// the tests use), with `psql` and `pgbench` from the same installation. Asked with `psql` so
/// that the suite needs no driver of its own.
struct PostgresCluster {
    let port: Int
    let child: Child
    let bin: String
    let work: URL
    let password = "tidings-test"

    static func start(repository: URL, work: URL) async throws -> PostgresCluster {
        guard let bin = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last
            .map({ "/usr/lib/postgresql/\($0)/bin" }), FileManager.default.isExecutableFile(atPath: "\(bin)/pgbench") else {
            throw BenchError("no PostgreSQL server (pgbench) under /usr/lib/postgresql: run `make bench-deps`")
        }
        let portFile = work.appendingPathComponent("postgres.port")
        // Through python3, which clears the signal mask this process's children inherit (its
        // threads block nearly every signal): the script stops the cluster on SIGTERM.
        let child = try Child("postgres", try which("python3"), [
            "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
            "/bin/bash", repository.appendingPathComponent("scripts/testservers/postgres_cluster.sh").path, "--port-file", portFile.path,
        ], logs: work)
        try child.start()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return PostgresCluster(port: port, child: child, bin: bin, work: work)
            }
            guard child.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the PostgreSQL cluster did not start: \(child.tail())")
    }

    /// `database.url` for a database of the cluster (the password goes separately).
    func url(_ database: String) -> String { "postgres://tidings@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    func createDatabase(_ name: String) throws {
        _ = try run("psql", ["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
    }

    /// The one number a query answers.
    func number(_ sql: String, in database: String) throws -> Int64 {
        let text = try run("psql", ["-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql]).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Int64(text) else { throw BenchError("psql answered \"\(text)\" to: \(sql)") }
        return value
    }

    /// pgbench's simple-update TPS (`-N`: no updates of the two small tables) with `clients`
    /// clients of `transactions` each, on a database of its own at scale 10. A count, not a
    /// duration: `-T` ends on SIGALRM, which a child of this process never gets (its threads
    /// block signals, and the mask is inherited).
    func pgbenchTPS(clients: Int, transactions: Int) throws -> Double {
        try createDatabase("pgbench")
        _ = try run("pgbench", ["-i", "-q", "-s", "10", "pgbench"])
        let output = try run("pgbench", ["-N", "-c", "\(clients)", "-j", "2", "-t", "\(transactions)", "pgbench"])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst("tps = ".count).split(separator: " ").first ?? "") else {
            throw BenchError("no TPS in pgbench's output: \(output)")
        }
        return tps
    }

    /// Runs one of the cluster's tools to completion and returns its output; fails with it.
    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(bin)/\(tool)")
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-U", "tidings"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = password
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BenchError("\(tool) \(arguments.joined(separator: " ")) failed: \(output)") }
        return output
    }
}

/// Where a daemon on PostgreSQL is, as `Progress` says it for SQLite.
struct PostgresProgress {
    let cluster: PostgresCluster
    let database: String

    /// Every event stored, with a position or not yet: positions are dense from 1 and given after
    /// commit (by whichever instance sequences first), so the head to reach is the count.
    func head() throws -> Int64 { try cluster.number("SELECT count(*) FROM events", in: database) }

    func checkpoint() throws -> Int64 {
        try cluster.number("SELECT coalesce((SELECT position FROM checkpoints WHERE name = 'pipeline'), 0)", in: database)
    }

    func messages(state: String, channel: String) throws -> Int64 {
        try cluster.number("SELECT count(*) FROM messages WHERE state = '\(state)' AND channel = '\(channel)'", in: database)
    }

    func unsent(channel: String) throws -> Int64 {
        try cluster.number("SELECT count(*) FROM messages WHERE state IN ('pending', 'retrying', 'sending') AND channel = '\(channel)'",
                           in: database)
    }

    /// Polls until `done` holds, failing after `timeout` seconds.
    func wait(timeout: Double, _ what: String, _ done: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if try done() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("timed out after \(Int(timeout)) s waiting for \(what)")
    }

    func caughtUp(timeout: Double) async throws {
        let head = try head()
        try await wait(timeout: timeout, "the pipeline to reach position \(head)") { try checkpoint() >= head }
    }
}
