import ArgumentParser
import Foundation
import TidingsApp
import TidingsCore
import TidingsPostgres
import TidingsStore

struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show the messages events would send now, rendered, without storing or sending anything.",
        discussion: """
            The events (a file as `tidings append` takes it; - for stdin) are validated, then run through the \
            workflows against the customers, orders and tickets as the database holds them now, one after another. \
            Nothing is written. A proactive delay alert can still be skipped when it is sent, if the customer was told \
            about a delay meanwhile; a disruption is not expanded to the orders it reaches.
            """)

    @OptionGroup var options: ConfigOption

    @Argument(help: "The file to read, or - for standard input.")
    var file: String

    @Flag(help: "Print the HTML part of emails too.")
    var html = false

    @Option(help: "text, or json for scripts.")
    var format: OutputFormat = .text

    enum OutputFormat: String, ExpressibleByArgument {
        case text, json
    }

    /// The events as the log would hold them next, after `head`.
    static func stored(_ events: [CloudEvent], after head: Int64, at now: Date) -> [StoredEvent] {
        events.enumerated().map { offset, event in StoredEvent(position: head + Int64(offset) + 1, recordedAt: now, event: event) }
    }

    func run() async throws {
        try await reporting {
            let runtime = try await options.loadRuntime()
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: file) else { throw Failure(message: "cannot read \(file)") }
                data = read
            }
            let (events, problems) = try EventFileParser.parse(data)
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data("\(StatusReport.printable(problem.description))\n".utf8)) }
                throw Failure(message: "previewed nothing: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(file)", exitCode: 65)
            }
            guard !events.isEmpty else { throw Failure(message: "no events in \(file)", exitCode: 65) }
            func previewed(_ base: some ModelLookup, head: Int64, now: Date) throws -> [PreviewedEvent] {
                var preview = Preview(engine: runtime.engine, base: base)
                var previews: [PreviewedEvent] = []
                for (stored, event) in zip(Self.stored(events, after: head, at: now), events) {
                    previews.append(PreviewedEvent(event: event, projection: try preview.project(stored, now: now), catalog: runtime.catalog))
                }
                return previews
            }
            let previews: [PreviewedEvent]
            switch runtime.config.database {
            case .sqlite(let path):
                let store = try Store(path: path, durability: runtime.config.durability)
                let now = try await ConfigOption.clock(runtime.config, store)()
                previews = try previewed(StoredModels(store: store), head: try store.status(now: now).head, now: now)
            case .postgres(let settings):
                previews = try await PostgresBackend.withRunning(settings, logger: Check.quietLogger) { backend in
                    try await backend.migrate()
                    let log = PostgresLog(backend: backend)
                    let now = try await ConfigOption.clock(runtime.config, PostgresTimers(log: log))()
                    let head = try await log.head()
                    let base = try await PostgresPreviewModels.load(for: Self.stored(events, after: head, at: now), backend: backend)
                    return try previewed(base, head: head, now: now)
                }
            }
            switch format {
            case .json:
                print(String(decoding: try JSONValue.array(previews.map(\.json)).encodedBytes(), as: UTF8.self))
            case .text:
                print(previews.map { $0.text(html: html) }.joined(separator: "\n"))
            }
        }
    }
}

/// One event's preview: its outcome and each message, rendered.
struct PreviewedEvent {
    struct Message {
        var intent: NotificationIntent
        var rendered: Result<RenderedMessage, any Error>?
    }

    var event: CloudEvent
    var outcome: String?
    var messages: [Message]

    init(event: CloudEvent, projection: Projection, catalog: TemplateCatalog) {
        self.event = event
        switch projection.outcome {
        case .applied: outcome = nil
        case .waiting(_, let reason): outcome = "waits: \(reason)"
        case .disruption: outcome = "a disruption: each open order it affects is told when the pipeline applies it (not expanded here)"
        case .forgotten(let customer): outcome = "erases customer \(customer) (recorded by tidings forget only)"
        }
        messages = projection.intents.map { intent in
            guard let channel = intent.channel, !intent.awaitingCustomer else { return Message(intent: intent, rendered: nil) }
            return Message(intent: intent, rendered: Result {
                try catalog.render(template: intent.template, channel: channel, locale: intent.locale, context: intent.context.json)
            })
        }
    }

    static func state(of intent: NotificationIntent) -> String {
        if intent.awaitingCustomer { return "parked: customer \(intent.customerID) is not known yet" }
        guard intent.channel != nil else { return "skipped: \(intent.skipReason ?? "no channel")" }
        if let notBefore = intent.notBefore { return "held until \(Timestamp.format(notBefore)) (quiet hours)" }
        return "would send"
    }

    func text(html: Bool) -> String {
        var lines = ["event \(event.id) (\(event.type)\(event.subject.map { ", \($0)" } ?? ""))"]
        if let outcome { lines.append("  \(outcome)") }
        if messages.isEmpty && outcome == nil { lines.append("  no messages") }
        for message in messages {
            let intent = message.intent
            let route = intent.channel.map { "\($0.rawValue) to \(intent.recipient ?? "-")" } ?? "no channel"
            lines.append("  \(intent.workflow): \(route), \(intent.locale), \(Self.state(of: intent))")
            switch message.rendered {
            case .success(let rendered)?:
                if let subject = rendered.subject { lines.append("    Subject: \(subject)") }
                lines += rendered.text.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
                if html, let body = rendered.html { lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" } }
            case .failure(let error)?:
                lines.append("    does not render: \(error)")
            case nil:
                break
            }
        }
        return lines.map(StatusReport.printable).joined(separator: "\n")
    }

    var json: JSONValue {
        var object: JSONObject = ["id": .string(event.id), "type": .string(event.type)]
        if let subject = event.subject { object["subject"] = .string(subject) }
        if let outcome { object["outcome"] = .string(outcome) }
        object["messages"] = .array(messages.map { message in
            let intent = message.intent
            var fields: JSONObject = [
                "workflow": .string(intent.workflow), "key": .string(intent.key), "locale": .string(intent.locale),
                "state": .string(Self.state(of: intent)),
            ]
            if let channel = intent.channel { fields["channel"] = .string(channel.rawValue) }
            if let recipient = intent.recipient { fields["recipient"] = .string(recipient) }
            switch message.rendered {
            case .success(let rendered)?:
                if let subject = rendered.subject { fields["subject"] = .string(subject) }
                fields["text"] = .string(rendered.text)
                if let html = rendered.html { fields["html"] = .string(html) }
            case .failure(let error)?:
                fields["error"] = .string("\(error)")
            case nil:
                break
            }
            return .object(fields)
        })
        return .object(object)
    }
}
