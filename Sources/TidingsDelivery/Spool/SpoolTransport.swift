import Dispatch
import Foundation
import TidingsCore

/// Writes each message to a directory instead of sending it: `.eml` files for email (exactly
/// what SMTP would have carried) and `.json` files for webhooks. The development default.
public final class SpoolTransport: Transport {
    let directory: URL
    let from: MIMEMessage.Mailbox
    let options: EmailOptions
    private let queue = DispatchQueue(label: "tidings.spool")

    /// Where a channel's messages go under the spool directory, and each message's file: the
    /// one naming `tidings forget` and retention use to remove them again.
    public static func directory(of channel: Channel, in spool: String) -> String { "\(spool)/\(channel.rawValue)" }

    public static func fileName(key: String, channel: Channel) -> String {
        channel == .email ? "\(key).eml" : "\(key).json"
    }

    public init(directory: String, from: MIMEMessage.Mailbox, options: EmailOptions = EmailOptions()) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        self.from = from
        self.options = options
        do {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        } catch {
            throw DeliveryError(.configuration, "cannot create the spool directory \(directory): \(error.localizedDescription)")
        }
    }

    public func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
        let file: URL
        let bytes: Data
        do {
            switch message.channel {
            case .email:
                file = directory.appendingPathComponent(Self.fileName(key: message.key, channel: message.channel))
                bytes = Data(try SMTPTransport.mime(for: message, from: from, options: options).build())
            case .sms, .messenger, .staff:
                file = directory.appendingPathComponent(Self.fileName(key: message.key, channel: message.channel))
                bytes = Data(JSONValue.encodedObject(strings: WebhookRequest.genericPayload(message)))
            }
        } catch {
            return .permanent(reason: "\(error)")
        }
        return await withCheckedContinuation { continuation in
            queue.async {
                do {
                    try bytes.write(to: file, options: .atomic)
                    continuation.resume(returning: .sent(detail: "spooled to \(file.path)"))
                } catch {
                    continuation.resume(returning: .transient(reason: "cannot write \(file.path): \(error.localizedDescription)"))
                }
            }
        }
    }

    public func close() {}

    /// A message sent while its customer was being forgotten: its file goes after it was written.
    public func erase(keys: [String]) {
        queue.async { [directory] in
            for key in keys {
                for channel in Channel.allCases {
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(Self.fileName(key: key, channel: channel)))
                }
            }
        }
    }
}
