import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request of a load: its body, and a tag to report when it is accepted (2xx).
struct LoadRequest {
    var body: [UInt8]
    var tag: String?
}

/// What a load run saw.
struct LoadResult {
    var seconds: Double
    var accepted: Int
    var refused: Int
    var firstRefusal: String?
    /// Each request's round trip, from its first byte sent to its answer's end, in microseconds.
    var roundTrips = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)

    /// A round-trip percentile in milliseconds.
    func milliseconds(atPercentile percentile: Double) -> Double { Double(roundTrips.valueAtPercentile(percentile)) / 1_000 }
}

/// Posts events to `POST /v1/events` over keep-alive HTTP/1.1 connections, on one event loop
/// thread (a second core is all the daemon has). Closed loop: each connection sends its next
/// request when the answer to the last arrives. Open loop: requests fall due at a steady rate,
/// whatever the answers do, and go out on the first idle connection.
final class HTTPLoad: @unchecked Sendable {
    // @unchecked: every field is touched only on `loop`, the group's one event loop.
    let port: Int
    let token: String
    let contentType: String
    let make: (Int) -> LoadRequest
    let total: Int
    let onAccepted: (String, UInt64) -> Void
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var loop: EventLoop { group.next() }

    var issued = 0
    var due = 0
    var finished = 0
    var result = LoadResult(seconds: 0, accepted: 0, refused: 0)
    /// Taken in turn (first in, first out): every connection is used every few milliseconds.
    /// Taking the latest first left most of an open-loop run's 32 connections unused for its
    /// whole 30 s, and the daemon closed them as idle (`http.idle_timeout`, 30 s) at its end.
    var idle = CircularBuffer<LoadConnection>()
    var done: EventLoopPromise<Void>?

    init(port: Int, token: String, contentType: String, total: Int, make: @escaping (Int) -> LoadRequest,
         onAccepted: @escaping (String, UInt64) -> Void = { _, _ in }) {
        self.port = port
        self.token = token
        self.contentType = contentType
        self.total = total
        self.make = make
        self.onAccepted = onAccepted
    }

    /// `connections` clients, each sending as fast as the server answers.
    func closedLoop(connections: Int) async throws -> LoadResult {
        due = total
        return try await run(connections: connections, rate: nil)
    }

    /// Requests at `rate` per second until `total` have gone, over up to `connections`.
    func openLoop(rate: Double, connections: Int) async throws -> LoadResult {
        try await run(connections: connections, rate: rate)
    }

    private func run(connections: Int, rate: Double?) async throws -> LoadResult {
        do {
            let result = try await measure(connections: connections, rate: rate)
            try? await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func measure(connections: Int, rate: Double?) async throws -> LoadResult {
        let start = NIODeadline.now()
        let channels = try await connect(connections)
        let finished = loop.submit { () -> EventLoopFuture<Void> in
            let promise = self.loop.makePromise(of: Void.self)
            self.done = promise
            if let rate {
                self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
                    let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
                    self.due = min(self.total, Int(elapsed * rate))
                    self.dispatch()
                    if self.due == self.total { task.cancel() }
                }
            } else {
                self.dispatch()
            }
            return promise.futureResult
        }
        try await finished.flatMap { $0 }.get()
        result.seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        for channel in channels { try? await channel.close().get() }
        return result
    }

    private func connect(_ count: Int) async throws -> [Channel] {
        var channels: [Channel] = []
        for _ in 0..<count {
            let connection = LoadConnection(load: self)
            let channel = try await ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(connection)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            channels.append(channel)
            try await loop.submit { self.idle.append(connection) }.get()
        }
        return channels
    }

    /// Hands due requests to idle connections.
    func dispatch() {
        while issued < due, let connection = idle.popFirst() {
            let request = make(issued)
            issued += 1
            connection.send(request)
        }
    }

    func completed(_ connection: LoadConnection, status: UInt, body: String, tag: String?, sentAt: NIODeadline) {
        _ = result.roundTrips.record(UInt64(max(0, (NIODeadline.now() - sentAt).nanoseconds) / 1_000))
        if (200..<300).contains(status) {
            result.accepted += 1
            if let tag { onAccepted(tag, NIODeadline.now().uptimeNanoseconds) }
        } else {
            result.refused += 1
            if result.firstRefusal == nil { result.firstRefusal = "\(status) \(body.prefix(300))" }
        }
        finished += 1
        idle.append(connection)
        if finished == total {
            done?.succeed()
            done = nil
        } else {
            dispatch()
        }
    }

    func failed(_ error: Error) {
        done?.fail(error)
        done = nil
    }
}

/// One keep-alive connection of a load.
final class LoadConnection: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used only on the load's event loop, like the load itself.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let load: HTTPLoad
    var context: ChannelHandlerContext?
    var status: UInt = 0
    var body = ""
    var tag: String?
    var sentAt = NIODeadline.now()

    init(load: HTTPLoad) { self.load = load }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(_ request: LoadRequest) {
        guard let context else { return }
        tag = request.tag
        body = ""
        sentAt = .now()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/events")
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Authorization", value: "Bearer \(load.token)")
        head.headers.add(name: "Content-Type", value: load.contentType)
        head.headers.add(name: "Content-Length", value: "\(request.body.count)")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: request.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status.code
        case .body(let buffer): if !(200..<300).contains(status) { body += String(buffer: buffer) }
        case .end: load.completed(self, status: status, body: body, tag: tag, sentAt: sentAt)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        load.failed(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if load.finished < load.total { load.failed(BenchError("the daemon closed a connection")) }
    }
}
