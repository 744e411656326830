import Foundation
import TidingsHTTP

extension Settings {
    /// `http.listen`, `http.body_limit`, `http.ready_max_lag`, `http.public_origin` and the secret `http.tokens`:
    /// entries of `name scopes token` (scopes ingest, read, admin, comma-separated), one per
    /// line or separated by `;`.
    func httpSettings() throws -> HTTPSettings {
        var settings = HTTPSettings()
        if let listen = text("http.listen") {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port),
                  colon > listen.startIndex else {
                throw ConfigError(.invalidValue, "http.listen must be host:port, such as 127.0.0.1:8080, got \"\(listen)\"")
            }
            settings.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            settings.port = port
        }
        settings.bodyLimit = try number("http.body_limit", default: settings.bodyLimit, range: 1_024...(64 << 20))
        settings.readyMaxLag = Int64(try number("http.ready_max_lag", default: Int(settings.readyMaxLag), range: 1...10_000_000))
        settings.readyMaxQuarantined = try number("http.ready_max_quarantined", default: settings.readyMaxQuarantined, range: 0...10_000_000)
        settings.idleTimeout = .seconds(try duration("http.idle_timeout", default: 30, range: 1...3_600) ?? 30)
        settings.readTimeout = .seconds(try duration("http.read_timeout", default: 30, range: 1...3_600) ?? 30)
        settings.maxConnections = try number("http.max_connections", default: settings.maxConnections, range: 1...1_000_000)
        if let origin = text("http.public_origin") {
            guard let normalized = HTTPSettings.origin(origin) else {
                throw ConfigError(.invalidValue, """
                    http.public_origin must be the scheme, host and port browsers reach this server at, without a path, \
                    such as https://tidings.example; got "\(origin)"
                    """)
            }
            settings.publicOrigin = normalized
        }
        if let raw = try secret("http.tokens") {
            do {
                settings.tokens = try APIToken.parse(raw)
            } catch {
                throw ConfigError(.invalidValue, "http.tokens entry \(error.entry): \(error.problem); write `name scopes token`, e.g. `shop ingest,read <token>`")
            }
        }
        return settings
    }
}
