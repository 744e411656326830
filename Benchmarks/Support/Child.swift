import Foundation

/// A process the suite starts: a server on loopback (nginx, smtp-sink, the daemon) or a
/// reference tool. Its output goes to a log file in the work directory, so a failure can be read.
final class Child: @unchecked Sendable {
    // @unchecked: `process` is only started, signalled and waited on from the suite's one task.
    let name: String
    let process = Process()
    let log: URL

    init(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
         logs: URL) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        log = logs.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
    }

    func start() throws {
        do {
            try process.run()
        } catch {
            throw BenchError("cannot start \(name) (\(process.executableURL?.path ?? "?")): \(error.localizedDescription)")
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL if it has not gone after `grace` seconds.
    func stop(grace: Double = 10) async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for it to exit; fails with the tail of its log unless it exits 0.
    func finish() async throws {
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        guard process.terminationStatus == 0 else {
            throw BenchError("\(name) exited with \(process.terminationStatus): \(tail())")
        }
    }

    /// The last lines of its output, for error messages.
    func tail(_ lines: Int = 15) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Peak resident memory in MB, from /proc (VmHWM), while it runs.
    func peakResidentMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first
            return kb.map { $0 / 1024 }
        }
        return nil
    }

    /// Runs a command to completion and returns the seconds it took and its peak resident
    /// memory in MB (VmHWM, read while it runs).
    static func timed(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:],
                      directory: URL? = nil, logs: URL) async throws -> (seconds: Double, peakMB: Double) {
        let child = try Child(name, executable, arguments, environment: environment, directory: directory, logs: logs)
        let start = ContinuousClock.now
        try child.start()
        var peak = 0.0
        while child.isRunning {
            peak = max(peak, child.peakResidentMB() ?? 0)
            try await Task.sleep(for: .milliseconds(5))
        }
        try await child.finish()
        return ((ContinuousClock.now - start).seconds, peak)
    }
}

/// Why the suite could not run a scenario.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Finds an executable on PATH or in the usual system folders (smtp-sink lives in /usr/sbin).
func which(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw BenchError("\(name) is not installed: run `make bench`, which installs it (scripts/deps.sh --bench)")
}

/// 127.0.0.1:`port` as a socket address.
func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A free TCP port on loopback, chosen by the kernel.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BenchError("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until something accepts TCP connections on the port.
func waitForPort(_ port: Int, timeout: Double = 20, what: String) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw BenchError("\(what) did not start listening on port \(port) within \(Int(timeout)) s")
}

/// Runs `body`, then stops the child whether or not `body` threw.
func stopping<T>(_ child: Child, _ body: () async throws -> T) async throws -> T {
    do {
        let value = try await body()
        await child.stop()
        return value
    } catch {
        await child.stop()
        throw error
    }
}
