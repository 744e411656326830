import Foundation
import HTTPTypes
import Hummingbird
import TidingsCore

/// An error response as RFC 9457 `application/problem+json`: what went wrong, in words a
/// client's developer can act on, and for invalid events, which event and which field.
public struct Problem: Error, Sendable, ResponseGenerator {
    public struct Issue: Sendable, Hashable {
        /// Which event, counted from 1, as the request listed them.
        public var event: Int?
        public var field: String
        public var message: String
    }

    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var issues: [Issue] = []
    /// Extra headers, such as `WWW-Authenticate` on a 401.
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ title: String, detail: String, issues: [Issue] = []) {
        self.status = status
        self.title = title
        self.detail = detail
        self.issues = issues
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: JSONObject = [
            "type": .string("https://tidings.example/problems/\(status.code)"), "title": .string(title),
            "status": .number(Double(status.code)), "detail": .string(detail), "instance": .string(request.uri.path),
        ]
        if !issues.isEmpty {
            body["errors"] = .array(issues.map { issue in
                var entry: JSONObject = ["field": .string(issue.field), "message": .string(issue.message)]
                if let event = issue.event { entry["event"] = .number(Double(event)) }
                return .object(entry)
            })
        }
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONValue.object(body).encodedBytes())))
    }

    static func unauthorized(_ detail: String) -> Problem {
        var problem = Problem(.unauthorized, "Unauthorized", detail: detail)
        problem.headers[.wwwAuthenticate] = #"Bearer realm="tidings""#
        return problem
    }
}

/// Turns every error into problem+json: our own problems as they are, Hummingbird's HTTP
/// errors (404, 405) with their status, and anything else as a 500 that reveals nothing.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's routes (`:name` segments match anything), to tell 405 from 404.
    let routes: [(method: HTTPRequest.Method, path: String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as HTTPResponseError {
            if error.status == .notFound, case let allowed = methods(for: request.uri.path), !allowed.isEmpty, !allowed.contains(request.method) {
                var problem = Problem(.methodNotAllowed, "Method Not Allowed",
                                      detail: "\(request.uri.path) takes \(allowed.map(\.rawValue).joined(separator: ", ")), not \(request.method)")
                problem.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return try problem.response(from: request, context: context)
            }
            let status = error.status
            let problem = Problem(status, status.reasonPhrase,
                                  detail: status == .notFound ? "no such resource: \(request.method) \(request.uri.path)" : status.reasonPhrase)
            return try problem.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try Problem(.internalServerError, "Internal Server Error", detail: "the request could not be completed; see the server log")
                .response(from: request, context: context)
        }
    }

    /// The methods the API takes on a path; empty for an unknown path.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        return routes.filter { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }
}
