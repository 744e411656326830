import Foundation
import Logging
import Synchronization
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

    /// On a terminal the lines read as swift-log's `StreamLogHandler` writes them (after the
    /// time): the same events through both, with the handler's metadata, the event's over it,
    /// an error, several lines, and no label. Under systemd, the journal's line instead.
    @Test func terminalLinesReadAsStreamLogHandlersDo() throws {
        struct Failure: Error, CustomStringConvertible { var description: String { "disk full" } }
        let events = [
            LogEvent(level: .info, message: "listening", metadata: nil, source: "TidingsHTTP", file: "f", function: "g", line: 1),
            LogEvent(level: .warning, message: "not sent", metadata: ["b": "event's", "c": "3"], source: "TidingsDelivery", file: "f",
                     function: "g", line: 1),
            LogEvent(level: .error, message: "cannot append\nsecond line", error: Failure(), metadata: nil, source: "S", file: "f",
                     function: "g", line: 1),
        ]
        for label in ["tidings", ""] {
            let captured = CapturedLines()
            var stream = StreamLogHandler(label: label, stream: captured, metadataProvider: nil)
            var ours = LineLogHandler(label: label, style: .terminal)
            stream[metadataKey: "a"] = "1"
            stream[metadataKey: "b"] = "handler's"
            ours[metadataKey: "a"] = "1"
            ours[metadataKey: "b"] = "handler's"
            for event in events {
                stream.log(event: event)
                let expected = String(try #require(captured.take()).dropFirst(25))
                let line = ours.line(for: event, time: { "2026-12-07T13:10:00+0000" })
                #expect(line.hasPrefix("2026-12-07T13:10:00+0000 "))
                #expect(String(line.dropFirst(25)) == expected)
            }
        }
        let journal = LineLogHandler(label: "tidings", style: .journal)
        #expect(journal.line(for: events[2], time: { "unused" })
            == "<3>error tidings: error.message=disk full error.type=\(String(reflecting: Failure.self)) [S] cannot append second line\n")
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

/// What a `StreamLogHandler` wrote, line by line.
private final class CapturedLines: TextOutputStream, Sendable {
    private let text = Mutex("")

    func write(_ string: String) { text.withLock { $0 += string } }

    /// The text written since the last call, if any.
    func take() -> String? {
        text.withLock { text in
            defer { text = "" }
            return text.isEmpty ? nil : text
        }
    }
}
