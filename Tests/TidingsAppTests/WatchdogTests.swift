import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import TidingsApp
import TidingsCore
import TidingsDelivery
import TidingsStore

/// systemd's watchdog watches the work: a pipeline that keeps failing is stuck, even though its
/// loop turns, and the ping stops with a line that says why.
@Suite("Watchdog")
struct WatchdogTests {
    @Test func stuckMeansNoProgressForHalfTheWatchdogTime() {
        let watchdog = Watchdog(pingInterval: .seconds(15))  // WatchdogSec=30
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(watchdog.verdict(lastProgress: now.addingTimeInterval(-14), now: now) == .ping)
        #expect(watchdog.verdict(lastProgress: now.addingTimeInterval(-16), now: now) == .stuck(seconds: 16))
        // Never less than 2 s, so a pipeline between two polls is not taken for stuck.
        #expect(Watchdog(pingInterval: .milliseconds(200)).staleAfter == 2)
    }

    /// Fails every batch, like a disk that stopped taking writes.
    struct FailingStore: PipelineStore {
        func head() async throws -> Int64 { 1 }
        func checkpoint() async throws -> Int64 { 0 }
        func processBatch(limit: Int, engine: WorkflowEngine, now: @escaping @Sendable () -> Date, fanoutLimit: Int, yielding: Yielding,
                          handoff: ClaimHandoff?) async throws
            -> PipelineBatch
        {
            throw StoreError(.invalidRequest, "disk I/O error (the test's)")
        }
        func nextWaitEnd() async throws -> Date? { nil }
        func retriesRequested() async throws -> Bool { false }
        func retryRequested(engine: WorkflowEngine, now: @escaping @Sendable () -> Date) async throws -> [HeldRetry] { [] }
    }

    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func append(_ line: String) { all.withLock { $0.append(line) } }
        func matching(_ text: String) -> [String] { all.withLock { $0.filter { $0.contains(text) } } }
    }

    /// Keeps what is logged, for the test to read.
    struct Recorder: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("\(event.level) \(event.message) \(fields)")
        }
    }

    @Test func aPipelineThatKeepsFailingStopsThePingsAndSaysWhy() async throws {
        let directory = try Paths.temporaryDirectory("watchdog")
        let socket = try NotifySocket(directory: directory)
        defer { withExtendedLifetime(socket) {} }
        let lines = Lines()
        let logger = Logger(label: "watchdog") { _ in Recorder(lines: lines) }
        let engine = WorkflowEngine(workflows: WorkflowSet(workflows: []), shop: ShopInfo(name: "S", email: "s@s.example", url: "https://s.example", phone: ""))
        let pipeline = PipelineService(store: FailingStore(), engine: engine, dispatcher: Doorbell(), batchSize: 10, pollInterval: .milliseconds(50),
                                       logger: logger, clock: { Date() })
        let started = StartupSignal()
        let notify = NotifyService(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"]),
            store: try Store(path: directory.appendingPathComponent("t.sqlite").path), pipeline: pipeline, logger: logger, started: started,
            clock: { Date() })
        let group = ServiceGroup(configuration: .init(services: [pipeline, notify], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            started.fire()
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline, lines.matching("withholding the watchdog ping").isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let stuck = lines.matching("withholding the watchdog ping")
        #expect(stuck.count == 1, "once per streak: \(stuck)")
        #expect(stuck.first?.hasPrefix("error ") == true)
        #expect(stuck.first?.contains("disk I/O error (the test's)") == true, "\(stuck)")
    }
}
