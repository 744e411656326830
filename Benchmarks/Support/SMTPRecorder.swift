import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A minimal SMTP server on loopback that notes, for each message, its recipients and the
/// moment it answered 250 to the end of DATA: the moment the message was accepted. It runs in
/// the suite's own process, so that moment and the HTTP answer share one monotonic clock.
final class SMTPRecorder: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let accepted = NIOLockedValueBox<[String: UInt64]>([:])
    /// Only recipients with this prefix are noted (the scenario's tagged messages).
    let prefix: String
    /// Only messages of this workflow are noted (their `X-Tidings-Workflow` header): a tagged
    /// customer gets later emails too, which must not stand in for the one measured.
    let workflowHeader: [UInt8]
    private let channel: NIOLockedValueBox<Channel?> = .init(nil)

    init(prefix: String, workflow: String) {
        self.prefix = prefix
        workflowHeader = Array("\r\nX-Tidings-Workflow: \(workflow)\r\n".utf8)
    }

    func start() async throws -> Int {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPSession(recorder: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLockedValue { $0 = server }
        return server.localAddress?.port ?? 0
    }

    func stop() async {
        if let server = channel.withLockedValue({ $0 }) { try? await server.close().get() }
        try? await group.shutdownGracefully()
    }

    /// Notes the first acceptance per recipient of a message of the workflow measured.
    func record(_ recipients: [String], message: ArraySlice<UInt8>) {
        let now = NIODeadline.now().uptimeNanoseconds
        let tagged = recipients.filter { $0.hasPrefix(prefix) }
        guard !tagged.isEmpty, SMTPSession.find(workflowHeader, in: message, from: message.startIndex) != nil else { return }
        accepted.withLockedValue { accepted in
            for recipient in tagged where accepted[recipient] == nil { accepted[recipient] = now }
        }
    }
}

/// One SMTP conversation: commands line by line, then the message up to the lone dot.
final class SMTPSession: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: a handler lives on its channel's event loop only.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let recorder: SMTPRecorder
    var buffer: [UInt8] = []
    var inData = false
    var recipients: [String] = []

    init(recorder: SMTPRecorder) { self.recorder = recorder }

    func channelActive(context: ChannelHandlerContext) {
        reply(context, "220 bench ESMTP")
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.append(contentsOf: chunk.readBytes(length: chunk.readableBytes) ?? [])
        var start = 0
        while true {
            if inData {
                // The message ends with CRLF . CRLF; the recorder only needs that moment.
                guard let end = Self.find([13, 10, 46, 13, 10], in: buffer[...], from: start) else { break }
                let message = buffer[start..<end]
                start = end + 5
                inData = false
                recorder.record(recipients, message: message)
                recipients = []
                reply(context, "250 2.0.0 queued")
                continue
            }
            guard let end = Self.find([13, 10], in: buffer[...], from: start) else { break }
            let line = String(decoding: buffer[start..<end], as: UTF8.self)
            start = end + 2
            command(context, line)
        }
        buffer.removeFirst(min(start, buffer.count))
        context.flush()
    }

    private func command(_ context: ChannelHandlerContext, _ line: String) {
        let verb = line.prefix(4).uppercased()
        switch verb {
        case "EHLO": reply(context, "250-bench\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE 10485760")
        case "HELO": reply(context, "250 bench")
        case "MAIL": recipients = []; reply(context, "250 2.1.0 ok")
        case "RCPT":
            if let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close {
                recipients.append(String(line[line.index(after: open)..<close]).lowercased())
            }
            reply(context, "250 2.1.5 ok")
        case "DATA":
            inData = true
            reply(context, "354 end with .")
        case "RSET": recipients = []; reply(context, "250 ok")
        case "NOOP": reply(context, "250 ok")
        case "QUIT": reply(context, "221 bye"); context.close(promise: nil)
        default: reply(context, "502 5.5.2 not implemented")
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(string: text + "\r\n")), promise: nil)
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.endIndex - needle.count else { return nil }
        var i = from
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
