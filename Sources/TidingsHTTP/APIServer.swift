import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import TidingsCore
import TidingsStore

/// Where and how the HTTP API listens.
public struct HTTPSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); the log says which.
    public var port = 8080
    /// Largest request body, in bytes.
    public var bodyLimit = 1 << 20
    public var tokens: [APIToken] = []
    /// `/readyz` fails while the pipeline is further behind the log than this.
    public var readyMaxLag: Int64 = 10_000
    /// /readyz fails while more events than this are quarantined: someone must look at them.
    public var readyMaxQuarantined = 10

    public init() {}
}

/// What the handlers need from the rest of the daemon.
public struct APIEnvironment: Sendable {
    public var store: Store
    public var commit: GroupCommit
    public var settings: HTTPSettings
    public var registry: PrometheusCollectorRegistry
    /// The pipeline's last heartbeat: it is running if this is recent.
    public var pipelineHeartbeat: @Sendable () -> Date
    public var clock: @Sendable () -> Date

    public init(store: Store, commit: GroupCommit, settings: HTTPSettings, registry: PrometheusCollectorRegistry,
                pipelineHeartbeat: @escaping @Sendable () -> Date, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.commit = commit
        self.settings = settings
        self.registry = registry
        self.pipelineHeartbeat = pipelineHeartbeat
        self.clock = clock
    }
}

/// The HTTP face of `tidings serve`: ingest, queries, metrics, health, the OpenAPI document and
/// a status page, on Hummingbird. It is a Service of the daemon's ServiceGroup; on SIGTERM it
/// stops accepting, finishes requests in flight, and then the group commit drains.
public enum APIServer {
    public static func application(_ environment: APIEnvironment, logger: Logger) -> some ApplicationProtocol {
        let api = API(environment: environment, tokens: TokenCheck(tokens: environment.settings.tokens))
        let routes = api.routes
        let router = Router()
        router.add(middleware: ProblemMiddleware(routes: routes.map { ($0.method, $0.path) }))
        for route in routes { router.on(RouterPath(route.path), method: route.method, use: route.handler) }
        let settings = environment.settings
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "tidings"),
            onServerRunning: { channel in
                logger.notice("http listening", metadata: ["address": "\(settings.host):\(channel.localAddress?.port ?? settings.port)"])
            },
            logger: logger)
    }
}

/// The handlers, with what they share.
struct API: Sendable {
    let environment: APIEnvironment
    let tokens: TokenCheck

    var store: Store { environment.store }

    struct Route: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var handler: @Sendable (Request, BasicRequestContext) async throws -> Response
    }

    /// Every route, once: the router is built from this list, and so is the 405 answer for a
    /// known path asked with another method.
    var routes: [Route] {
        [
            Route(method: .post, path: "/v1/events") { request, context in try await postEvents(request, context) },
            Route(method: .get, path: "/v1/orders/:id") { request, context in try order(request, context) },
            Route(method: .get, path: "/v1/tickets/:id") { request, context in try ticket(request, context) },
            Route(method: .get, path: "/v1/customers/:id/messages") { request, context in try customerMessages(request, context) },
            Route(method: .get, path: "/v1/deliveries") { request, context in try deliveries(request, context) },
            Route(method: .post, path: "/v1/deliveries/:id/retry") { request, context in try retry(request, context) },
            Route(method: .get, path: "/metrics") { _, _ in try metrics() },
            Route(method: .get, path: "/healthz") { _, _ in try json(["status": "ok"]) },
            Route(method: .get, path: "/readyz") { _, _ in try readiness() },
            Route(method: .get, path: "/openapi.yaml") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
            },
            Route(method: .get, path: "/") { _, _ in try statusPage() },
        ]
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: try value.encodedBytes())))
    }
}
