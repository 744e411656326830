import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct Append: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate events from a file (JSON array or NDJSON; - for stdin) and append them to the log.",
        discussion: """
            If any event is invalid, none is appended. Events already in the log (same source and id) are skipped. \
            The file is read as a stream and written in short transactions, so the daemon's HTTP ingest is never held \
            up behind it; nobody sees any of its events until all are in.
            """)

    @OptionGroup var options: ConfigOption

    @Argument(help: "The file to read, or - for standard input.")
    var file: String

    /// Events per transaction: long enough to amortise the commit, short enough that an HTTP
    /// request waiting for the writer waits milliseconds.
    static let chunk = 1_000
    /// Chunks prepared ahead of the writer: enough to keep the other core busy, few enough
    /// that memory stays bounded whatever the file's size.
    static let ahead = 1
    /// Problems printed at most; the rest are counted.
    static let shown = 1_000

    func run() async throws {
        try await reporting {
            let config = try await options.load()
            let handle = try Self.input(file)
            if case .postgres(let settings) = config.database {
                return try await appendToPostgres(handle, settings: settings, config: config)
            }
            let store = try Store(path: config.databasePath, durability: config.durability)
            let now = try await ConfigOption.clock(config, store)
            // An append that died left invisible events holding back everything after them.
            try store.abandonAppends { AppendLock.isGone(databasePath: config.databasePath, id: $0) }
            let id = UUID().uuidString.lowercased()
            let lock = try AppendLock(databasePath: config.databasePath, id: id)
            try store.useSmallWriterCache()
            var staged = try store.beginAppend(id: id, now: now())
            var parser = EventFileParser(file: handle)
            var problems: [EventFileParser.Problem] = []
            var problemCount = 0
            // The next chunks are parsed, validated and encoded on other threads while this
            // one is written: the writer and the parser each keep a core busy.
            // One chunk is written while the next is admitted; results are counted in order.
            var ahead: [Task<EventFileParser.Prepared, Never>] = []
            var writing: Task<AppendResult, any Error>?
            var keys: [String: Data] = [:]
            do {
                while true {
                    while ahead.count < Self.ahead, let items = try parser.nextItems(count: Self.chunk) {
                        ahead.append(Task.detached { EventFileParser.prepare(items) })
                    }
                    guard !ahead.isEmpty else { break }
                    let chunk = parser.admit(await ahead.removeFirst().value)
                    problemCount += chunk.problems.count
                    problems += chunk.problems.prefix(Self.shown - problems.count)
                    // After the first problem the rest is only read, for its problems.
                    let sealed = problemCount == 0 ? try store.sealAhead(chunk.events, ring: &keys) : []
                    if let written = writing {
                        writing = nil
                        try staged.count(await written.value)
                    }
                    if problemCount == 0 {
                        let handover = Handover(consume sealed)
                        writing = Task { [staged, now] in try await staged.write(handover, now: now()) }
                    }
                }
                if let written = writing { try staged.count(await written.value) }
            } catch {
                _ = await writing?.result
                throw Failure(message: "appended nothing: \(error)" + Self.abandon(staged))
            }
            guard problemCount == 0 else {
                for problem in problems { FileHandle.standardError.write(Data("\(StatusReport.printable(problem.description))\n".utf8)) }
                if problemCount > problems.count { FileHandle.standardError.write(Data("… and \(problemCount - problems.count) more\n".utf8)) }
                throw Failure(message: "appended nothing: \(problemCount) problem\(problemCount == 1 ? "" : "s") in \(file)" + Self.abandon(staged))
            }
            try staged.finish()
            withExtendedLifetime(lock) {}
            let summary = "appended \(staged.appended) event\(staged.appended == 1 ? "" : "s"), \(staged.alreadyStored) already stored"
            guard staged.stagedElsewhere == 0 else {
                throw Failure(message: summary + "; \(staged.stagedElsewhere) more are staged by another tidings append still running, "
                    + "and are lost if it fails: run this again once it has finished (what is stored is skipped)")
            }
            print(summary)
        }
    }

    /// On PostgreSQL the file goes in as one transaction: nobody sees its events until all are
    /// in, ingest goes on beside it, and a problem anywhere takes everything back.
    func appendToPostgres(_ handle: FileHandle, settings: PostgresSettings, config: TidingsConfig) async throws {
        var parser = EventFileParser(file: handle)
        let problems = ProblemList(shown: Self.shown)
        let result: AppendResult
        do {
            result = try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                try await backend.migrate()
                let log = PostgresLog(backend: backend)
                let now = try await ConfigOption.clock(config, PostgresTimers(log: log))
                return try await log.appendAll(now: now()) {
                    while let chunk = try parser.next(count: Self.chunk) {
                        problems.add(chunk.problems)
                        // After the first problem the rest is only read, for its problems.
                        if problems.count == 0 { return chunk.events }
                    }
                    if problems.count > 0 { throw problems }
                    return nil
                }
            }
        } catch let found as ProblemList {
            for problem in found.shownProblems { FileHandle.standardError.write(Data("\(StatusReport.printable(problem.description))\n".utf8)) }
            if found.count > found.shownProblems.count { FileHandle.standardError.write(Data("… and \(found.count - found.shownProblems.count) more\n".utf8)) }
            throw Failure(message: "appended nothing: \(found.count) problem\(found.count == 1 ? "" : "s") in \(file)")
        } catch {
            throw Failure(message: "appended nothing: \(error)")
        }
        print("appended \(result.appended) event\(result.appended == 1 ? "" : "s"), \(result.alreadyStored) already stored")
    }

    /// The file named, or standard input for `-`.
    static func input(_ file: String) throws -> FileHandle {
        if file == "-" { return .standardInput }
        guard let opened = FileHandle(forReadingAtPath: file) else { throw Failure(message: "cannot read \(file)") }
        return opened
    }

    /// Takes the staged events out again. If that fails it is said, not dropped: the events
    /// stay invisible, and the daemon or the next append removes them once this process exits.
    static func abandon(_ staged: StagedAppend) -> String {
        do {
            try staged.abandon()
            return ""
        } catch {
            return " (its staged events are removed once this process exits, by the daemon or the next append: \(error))"
        }
    }
}

/// The problems found in a file, the first `shown` of them kept; thrown to take an append back.
final class ProblemList: Error, @unchecked Sendable {
    // @unchecked: filled and read by the one task that runs the append, one chunk after another.
    let shown: Int
    private(set) var shownProblems: [EventFileParser.Problem] = []
    private(set) var count = 0

    init(shown: Int) { self.shown = shown }

    func add(_ problems: [EventFileParser.Problem]) {
        count += problems.count
        shownProblems += problems.prefix(shown - shownProblems.count)
    }
}
