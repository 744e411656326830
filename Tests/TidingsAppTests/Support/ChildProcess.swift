import Dispatch
import Foundation

/// Runs blocking work (waiting for a process, a socket) off Swift's cooperative pool, which
/// has only as many threads as cores.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Where the repository and the built binary are.
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var tidings: String {
        if let bin = ProcessInfo.processInfo.environment["TIDINGS_BIN"] { return bin }
        return root.appendingPathComponent(".build/debug/tidings").path
    }

    /// The shipped development configuration, with its database and spool in `directory` and
    /// its workflows and templates found from anywhere.
    static func environment(in directory: URL) -> [String: String] {
        [
            "TIDINGS_CONFIG": root.appendingPathComponent("config/tidings.yaml").path,
            "DATABASE_PATH": directory.appendingPathComponent("tidings.sqlite").path,
            "SPOOL_DIRECTORY": directory.appendingPathComponent("spool").path,
            "TEMPLATES_DIRECTORY": root.appendingPathComponent("config/templates").path,
            "WORKFLOWS_PATH": root.appendingPathComponent("config/workflows.yaml").path,
        ]
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tidings-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process with its output captured to files; killed when the test is done with it.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is configured before launch and then only read; Foundation's
    // Process is thread-safe for terminate/wait.
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL = Paths.root,
         logs: URL, name: String, stdin: Data? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) || executable.hasPrefix("/usr/bin/env") else {
            throw TestFailure("\(executable) is not built; run `swift build` (make test does) first")
        }
        stdoutURL = logs.appendingPathComponent("\(name).out")
        stderrURL = logs.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = environment
        // Daemons in parallel tests must not fight over the default port 8080.
        if executable == Paths.tidings, environment["HTTP_LISTEN"] == nil { environment["HTTP_LISTEN"] = "127.0.0.1:0" }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        if let stdin {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(stdin)
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to end, up to a limit; kills it if it does not.
    func wait(timeout: TimeInterval = 60) async throws -> Int32 {
        let process = self.process
        return try await offPool {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                let stacks = Self.dumpStacks(of: process.processIdentifier, to: self.stderrURL.deletingPathExtension().appendingPathExtension("stacks"))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TestFailure("\(process.executableURL?.lastPathComponent ?? "process") did not finish within \(timeout) s\(stacks)")
            }
            return process.terminationStatus
        }
    }

    /// A hung child's threads, written beside its logs when gdb is there to read them: a hang
    /// in CI then says where it waited.
    private static func dumpStacks(of pid: Int32, to file: URL) -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else { return "" }
        let gdb = Process()
        gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
        gdb.arguments = ["-p", "\(pid)", "-batch", "-iex", "set complaints 0", "-ex", "thread apply all bt 12"]
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        guard let output = try? FileHandle(forWritingTo: file) else { return "" }
        gdb.standardOutput = output
        gdb.standardError = output
        gdb.standardInput = FileHandle.nullDevice
        guard (try? gdb.run()) != nil else { return "" }
        gdb.waitUntilExit()
        return " (threads: \(file.path))"
    }

    func signal(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension ChildProcess {
    /// Runs `tidings` with arguments and returns its exit status and output.
    static func tidings(_ arguments: [String], environment: [String: String], logs: URL, stdin: Data? = nil) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let child = try ChildProcess(Paths.tidings, arguments, environment: environment, logs: logs,
                                     name: "tidings-\(arguments.first ?? "")-\(UUID().uuidString.prefix(4))", stdin: stdin)
        let status = try await child.wait()
        return (status, child.stdout, child.stderr)
    }
}
