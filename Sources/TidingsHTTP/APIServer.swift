import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
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
    /// A connection that sends nothing for this long (between requests, or in the middle of a
    /// request's headers) is closed, so half-open requests cannot hold connections.
    public var idleTimeout = Duration.seconds(30)
    /// The longest a request's body may take to arrive.
    public var readTimeout = Duration.seconds(30)
    /// Connections accepted at once; further ones wait in the listen backlog.
    public var maxConnections = 1_024
    /// How browsers reach this server (`https://tidings.example`), when a proxy stands in front:
    /// the console's POSTs must come from it, and over https its cookie is `Secure`. Nil: the
    /// request's own `Host`, and no `Secure` (plain http on a private network or loopback).
    public var publicOrigin: String?
    /// Checks the one-click unsubscribe links of `/v1/unsubscribe`; nil when not configured.
    public var unsubscribe: UnsubscribeLinks?
    public var receipts = ReceiptSettings()

    public init() {}
}

/// What the handlers need from the rest of the daemon.
public struct APIEnvironment: Sendable {
    /// The SQLite store, for a `tidings rebuild`'s progress in /metrics; nil on PostgreSQL.
    public var store: Store?
    /// The numbers behind `/metrics` and `/readyz`, from either backend.
    public var status: any StatusSource
    /// Orders, tickets and messages for the `/v1` reads, from either backend.
    public var reads: any ReadQueries
    public var commit: GroupCommit
    public var settings: HTTPSettings
    public var registry: PrometheusCollectorRegistry
    /// The pipeline's last heartbeat: it is running if this is recent.
    public var pipelineHeartbeat: @Sendable () -> Date
    public var clock: @Sendable () -> Date
    /// Called once the server listens.
    public var listening: @Sendable () -> Void
    /// The templates, for the console to show a message as it was sent; nil shows none.
    public var catalog: TemplateCatalog?
    /// The workflows and shop, for the console's preview; nil shows none.
    public var engine: WorkflowEngine?

    public init(store: Store?, status: any StatusSource, reads: any ReadQueries, commit: GroupCommit, settings: HTTPSettings, registry: PrometheusCollectorRegistry,
                pipelineHeartbeat: @escaping @Sendable () -> Date, clock: @escaping @Sendable () -> Date,
                listening: @escaping @Sendable () -> Void = {}, catalog: TemplateCatalog? = nil, engine: WorkflowEngine? = nil) {
        self.store = store
        self.status = status
        self.reads = reads
        self.commit = commit
        self.settings = settings
        self.registry = registry
        self.pipelineHeartbeat = pipelineHeartbeat
        self.clock = clock
        self.listening = listening
        self.catalog = catalog
        self.engine = engine
    }
}

/// The HTTP face of `tidings serve`: ingest, queries, metrics, health, the OpenAPI document and
/// a status page, on Hummingbird. It is a Service of the daemon's ServiceGroup; on SIGTERM it
/// stops accepting, finishes requests in flight, and then the group commit drains.
public enum APIServer {
    /// The server as a Service of the daemon's group. Failing to listen (the port is taken) is
    /// an error that names the address, and stops the daemon at once.
    public static func service(_ environment: APIEnvironment, logger: Logger) -> some Service {
        ListeningService(application: application(environment, logger: logger), settings: environment.settings)
    }

    static func application(_ environment: APIEnvironment, logger: Logger) -> some ApplicationProtocol {
        let api = API(environment: environment, tokens: TokenCheck(tokens: environment.settings.tokens))
        let routes = api.routes
        let router = Router()
        router.add(middleware: ProblemMiddleware(routes: routes.map { ($0.method, $0.path) }))
        for route in routes { router.on(RouterPath(route.path), method: route.method, use: route.handler) }
        let settings = environment.settings
        return Application(
            router: router,
            server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: TimeAmount(settings.idleTimeout))),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: "tidings",
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections, logger: logger)),
            onServerRunning: { channel in
                logger.notice("http listening", metadata: ["address": "\(settings.host):\(channel.localAddress?.port ?? settings.port)"])
                environment.listening()
            },
            logger: logger)
    }
}

/// Runs the application, turning a failure to listen into an error an operator can act on.
struct ListeningService<App: ApplicationProtocol>: Service {
    let application: App
    let settings: HTTPSettings

    func run() async throws {
        do {
            try await application.run()
        } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
            throw HTTPServerError(.cannotListen, """
                cannot listen on \(settings.host):\(settings.port): \(String(cString: strerror(error.errnoCode))); \
                another tidings, or another program, may be using it: stop it, or set http.listen
                """)
        }
    }
}

/// Errors of the HTTP server itself.
public struct HTTPServerError: DomainError {
    public enum Code: String, Sendable {
        case cannotListen = "http.cannot_listen"
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// The handlers, with what they share.
struct API: Sendable {
    let environment: APIEnvironment
    let tokens: TokenCheck
    /// Console sessions are signed with a key derived from the tokens: derived once.
    let sessionKeys: ConsoleSession.Keys

    init(environment: APIEnvironment, tokens: TokenCheck) {
        self.environment = environment
        self.tokens = tokens
        sessionKeys = ConsoleSession.Keys(tokens: tokens.tokens)
    }

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
            Route(method: .get, path: "/v1/orders/:id") { request, context in try await order(request, context) },
            Route(method: .get, path: "/v1/tickets/:id") { request, context in try await ticket(request, context) },
            Route(method: .get, path: "/v1/customers/:id/messages") { request, context in try await customerMessages(request, context) },
            Route(method: .get, path: "/v1/deliveries") { request, context in try await deliveries(request, context) },
            Route(method: .post, path: "/v1/deliveries/:id/retry") { request, context in try await retry(request, context) },
            Route(method: .get, path: "/v1/unsubscribe") { request, _ in try await unsubscribe(request, confirmed: false) },
            Route(method: .post, path: "/v1/unsubscribe") { request, _ in try await unsubscribe(request, confirmed: true) },
            Route(method: .post, path: "/v1/receipts") { request, context in try await postReceipt(request, context) },
            Route(method: .post, path: "/v1/receipts/bounces") { request, context in try await postBounce(request, context) },
            Route(method: .post, path: "/v1/receipts/twilio") { request, context in try await postTwilio(request, context) },
            Route(method: .post, path: "/v1/receipts/messenger") { request, context in try await postMessenger(request, context) },
            Route(method: .get, path: "/v1/receipts/messenger") { request, _ in try verifyMessenger(request) },
            Route(method: .get, path: "/v1/suppressions") { request, context in try await suppressions(request, context) },
            Route(method: .delete, path: "/v1/suppressions/:channel/:address") { request, context in
                try await liftSuppression(request, context)
            },
            Route(method: .get, path: "/metrics") { _, _ in try await metrics() },
            Route(method: .get, path: "/healthz") { _, _ in try json(["status": "ok"]) },
            Route(method: .get, path: "/readyz") { _, _ in try await readiness() },
            Route(method: .get, path: "/openapi.yaml") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
            },
            Route(method: .get, path: "/") { _, _ in try await statusPage() },
        ] + consoleRoutes
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: try value.encodedBytes())))
    }
}

extension HTTPSettings {
    /// An origin as browsers send it in `Origin`: lower-case scheme and host, the port only
    /// when it is not the scheme's default. Nil for anything but an http(s) origin without a
    /// path, query or user.
    public static func origin(_ text: String) -> String? {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host?.lowercased(), !host.isEmpty, url.path.isEmpty || url.path == "/", url.query == nil, url.fragment == nil,
              url.user == nil, url.password == nil
        else { return nil }
        let name = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port = url.port, port != (scheme == "https" ? 443 : 80) else { return "\(scheme)://\(name)" }
        return "\(scheme)://\(name):\(port)"
    }
}
