import Foundation
import Logging
import Testing
@testable import TidingsApp

/// Under systemd every line carries its syslog priority, so `journalctl -p warning` finds the
/// warnings and errors; elsewhere the lines stay as they were.
@Suite("Journal priorities")
struct JournalTests {
    @Test func eachLevelHasItsPriority() {
        let expected: [Logger.Level: Int] = [.trace: 7, .debug: 7, .info: 6, .notice: 5, .warning: 4, .error: 3, .critical: 2]
        for (level, priority) in expected { #expect(Journal.priority(level) == priority) }
        let line = LineLogHandler.journalLine(level: .warning, label: "tidings", metadata: ["b": "2", "a": "1"], source: "TidingsDelivery",
                                          message: "message not sent\nsecond line")
        #expect(line == "<4>warning tidings: a=1 b=2 [TidingsDelivery] message not sent second line\n")
        #expect(Journal.prefixed("tidings: bad\nsee this\n", priority: 3) == "<3>tidings: bad\n<3>see this\n")
    }

    /// On a terminal the lines read as swift-log's `StreamLogHandler` wrote them.
    @Test func terminalLinesReadAsBefore() {
        let line = LineLogHandler.terminalLine(time: "2026-12-07T13:10:00+0000", level: .info, label: "tidings", metadata: ["b": "2", "a": "1"],
                                               source: "TidingsHTTP", message: "listening")
        #expect(line == "2026-12-07T13:10:00+0000 info tidings: a=1 b=2 [TidingsHTTP] listening\n")
        #expect(LineLogHandler.terminalLine(time: "t", level: .error, label: "tidings", metadata: [:], source: "S", message: "m") == "t error tidings: [S] m\n")
        let stamp = LineLogHandler.timestamp()
        #expect(stamp.count == 24 && stamp.dropFirst(10).first == "T", "\(stamp)")
    }

    /// Only the stream systemd connected counts: stderr redirected to a file is not the journal.
    @Test func theJournalIsRecognisedByDeviceAndInode() throws {
        let url = try Paths.temporaryDirectory("journal").appendingPathComponent("stream")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var info = stat()
        #expect(fstat(handle.fileDescriptor, &info) == 0)
        #expect(Journal.connected(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"], descriptor: handle.fileDescriptor))
        #expect(!Journal.connected(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"], descriptor: handle.fileDescriptor))
        #expect(!Journal.connected(environment: [:], descriptor: handle.fileDescriptor))
        #expect(!Journal.connected(environment: ["JOURNAL_STREAM": "nonsense"], descriptor: handle.fileDescriptor))
    }

    /// The real binary: a fatal configuration error reaches the journal at error priority.
    @Test func aFatalErrorReachesTheJournalAtErrorPriority() async throws {
        let directory = try Paths.temporaryDirectory("journal-cli")
        let url = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var info = stat()
        #expect(fstat(handle.fileDescriptor, &info) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.tidings)
        process.arguments = ["check", "--config", directory.appendingPathComponent("missing.yaml").path]
        process.environment = ProcessInfo.processInfo.environment.merging(["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]) { $1 }
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(process.terminationStatus != 0)
        #expect(text.hasPrefix("<3>tidings: "), "\(text)")
    }
}
