import Foundation
import TidingsCore

/// A real server on 127.0.0.1 from `scripts/testservers`, recording what it receives as JSON
/// lines: aiosmtpd for SMTP, a threading HTTP server for webhooks.
final class LoopbackServer: @unchecked Sendable {
    // @unchecked: all stored properties are set once in init.
    let child: ChildProcess
    let port: Int
    let records: URL
    /// Absent unless `hold(after:)` wrote it: the server answers everything.
    let holdFile: URL

    /// `port` reuses a port an earlier server had, to bring "the same server" back.
    static func smtp(logs: URL, auth: String? = nil, rejecting: [String] = [], port: Int? = nil, smtputf8: Bool = true) async throws
        -> LoopbackServer
    {
        var arguments: [String] = port.map { ["--port", "\($0)"] } ?? []
        if !smtputf8 { arguments.append("--no-smtputf8") }
        if let auth { arguments += ["--auth", auth] }
        for address in rejecting { arguments += ["--reject-rcpt", address] }
        return try await LoopbackServer(script: "smtp_server.py", arguments: arguments, logs: logs, name: "smtp")
    }

    /// `secret` makes the receiver verify every Standard Webhooks signature with it.
    static func http(logs: URL, secret: String? = nil) async throws -> LoopbackServer {
        try await LoopbackServer(script: "http_receiver.py", arguments: secret.map { ["--secret", $0] } ?? [], logs: logs, name: "http")
    }

    private init(script: String, arguments: [String], logs: URL, name: String) async throws {
        let portFile = logs.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(6)).port")
        records = logs.appendingPathComponent("\(name).jsonl")
        holdFile = logs.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(6)).hold")
        child = try ChildProcess("/usr/bin/env", ["python3", Paths.root.appendingPathComponent("scripts/testservers/\(script)").path,
                                                  "--port-file", portFile.path, "--out", records.path, "--hold-file", holdFile.path]
                                     + arguments,
                                 logs: logs, name: name)
        let deadline = Date().addingTimeInterval(30)
        var port: Int?
        while port == nil && Date() < deadline && child.process.isRunning {
            port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let port else { throw TestFailure("\(script) did not start: \(child.stderr)") }
        self.port = port
    }

    /// Holds the answers to every request or message after the first `count` (recorded all the
    /// same) until called again with more, or with nil to answer everything: a client killed
    /// once `count()` reaches it is then mid-stream, however late the test looked.
    func hold(after count: Int?) throws {
        guard let count else {
            try? FileManager.default.removeItem(at: holdFile)
            return
        }
        try Data("\(count)".utf8).write(to: holdFile, options: .atomic)
    }

    /// How many requests or messages have arrived so far (cheap enough to poll).
    func count() -> Int {
        guard let data = FileManager.default.contents(atPath: records.path) else { return 0 }
        return data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }

    /// Everything received so far, one JSON object per request or message.
    func received() throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: records.path) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONValue.parse(Data($0)) }
    }

    func stop() async throws {
        child.signal(SIGTERM)
        _ = try await child.wait(timeout: 10)
    }
}
