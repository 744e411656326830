import Foundation
import Hummingbird
import NIOCore
import TidingsCore

extension API {
    /// `POST /v1/events`: 201 with the new events' positions, 200 when every event was
    /// already stored. A 2xx means the events are on disk; 422 refuses a request with an
    /// event about a forgotten customer (none of it is stored).
    func postEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try tokens.authorize(request, .ingest)
        _ = try EventDecoding.mode(of: request.headers)  // 415 before reading the body
        let body = try await collect(request)
        let events = try EventDecoding.decode(body, headers: request.headers)
        let result = try await environment.commit.append(events)
        if let refusal = result.refusal { throw Problem(.unprocessableContent, "Unprocessable Content", detail: refusal) }
        guard result.stagedElsewhere == 0 else { throw Self.stagedElsewhere(result) }
        let value: JSONValue = [
            "appended": .number(Double(result.appended)), "already_stored": .number(Double(result.alreadyStored)),
            "positions": .array(result.positions.map { .number(Double($0)) }),
        ]
        return try json(value, status: result.appended > 0 ? .created : .ok)
    }

    /// The body, refused with 413 as soon as it passes the limit, and with 408 when it takes
    /// longer than `http.read_timeout` to arrive (a client trickling bytes holds a connection).
    /// `limit` is `http.body_limit` unless a route takes less (the console's login).
    func collect(_ request: Request, limit: Int? = nil) async throws -> [UInt8] {
        let limit = limit ?? environment.settings.bodyLimit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge(limit) }
        let timeout = environment.settings.readTimeout
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                for try await chunk in request.body {
                    guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge(limit) }
                    bytes.append(contentsOf: chunk.readableBytesView)
                }
                return bytes
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                throw Problem(.requestTimeout, "Request Timeout", detail: "the body did not arrive within \(timeout) (http.read_timeout); send it again")
            }
            return body
        }
    }

    /// Some events are staged by a `tidings append` still running, and are gone if it fails:
    /// not a 2xx, which would say they are durable. Sending again is harmless.
    static func stagedElsewhere(_ result: AppendResult) -> Problem {
        var problem = Problem(.serviceUnavailable, "Service Unavailable", detail: """
            \(result.stagedElsewhere) of the events are being appended by a tidings append that is still running; \
            the other \(result.appended + result.alreadyStored) are stored. Send the request again shortly: what is stored is skipped
            """)
        problem.headers[.retryAfter] = "1"
        return problem
    }

    func tooLarge(_ limit: Int) -> Problem {
        Problem(.contentTooLarge, "Content Too Large", detail: "the body is over the limit of \(limit) bytes (http.body_limit); send the events in smaller batches")
    }
}
