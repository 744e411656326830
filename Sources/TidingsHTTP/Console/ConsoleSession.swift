import Crypto
import Foundation
import TidingsCore

/// A console login, kept in a cookie the server signed: `v1.<name>.<scope>.<expiry>.<mac>`.
/// Nothing is stored server-side, so every instance on one database accepts it. The signing key
/// is derived from the configured tokens' digests: changing or removing tokens ends every
/// session, and a session names a token that must still exist with its scope.
struct ConsoleSession: Sendable, Hashable {
    var tokenName: String
    /// Admin logins may retry dead messages and enable endpoints; read logins only look.
    var admin: Bool
    var expires: Date

    static let cookieName = "tidings_console"

    /// Who the console's actions are recorded as.
    var actor: OperatorAction.Actor { OperatorAction.Actor(via: .console, name: tokenName) }
    /// How long a login lasts: a working day.
    static let lifetime: TimeInterval = 8 * 3600

    /// Signs and checks sessions for one set of tokens.
    struct Keys: Sendable {
        let tokens: [APIToken]
        private let key: SymmetricKey

        init(tokens: [APIToken]) {
            self.tokens = tokens
            var hash = SHA256()
            hash.update(data: Array("tidings console session v1".utf8))
            for digest in tokens.map(\.digest).sorted(by: { $0.lexicographicallyPrecedes($1) }) { hash.update(data: digest) }
            key = SymmetricKey(data: hash.finalize())
        }

        /// A session for a token with the read or admin scope, or nil for any other token.
        func session(for token: APIToken, now: Date) -> ConsoleSession? {
            let admin = token.scopes.contains(.admin)
            guard admin || token.scopes.contains(.read) else { return nil }
            return ConsoleSession(tokenName: token.name, admin: admin, expires: now.addingTimeInterval(ConsoleSession.lifetime))
        }

        func cookieValue(_ session: ConsoleSession) -> String {
            let payload = Self.payload(session)
            return "\(payload).\(mac(payload))"
        }

        /// The session a cookie value carries, if this server signed it, it has not expired,
        /// and its token still has the scope.
        func session(from value: String, now: Date) -> ConsoleSession? {
            let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5, parts[0] == "v1",
                  TokenCheck.equal(Array(mac(parts[0..<4].joined(separator: ".")).utf8), Array(parts[4].utf8)),
                  let nameBytes = Data(base64URLEncoded: parts[1]), let name = String(data: nameBytes, encoding: .utf8),
                  let seconds = Double(parts[3]), ["read", "admin"].contains(parts[2])
            else { return nil }
            let session = ConsoleSession(tokenName: name, admin: parts[2] == "admin", expires: Date(timeIntervalSince1970: seconds))
            guard session.expires > now, let token = tokens.first(where: { $0.name == name }),
                  token.scopes.contains(.admin) || (!session.admin && token.scopes.contains(.read))
            else { return nil }
            return session
        }

        private static func payload(_ session: ConsoleSession) -> String {
            "v1.\(Data(session.tokenName.utf8).base64URLEncoded).\(session.admin ? "admin" : "read").\(Int64(session.expires.timeIntervalSince1970))"
        }

        private func mac(_ payload: String) -> String {
            Data(HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key)).base64URLEncoded
        }
    }
}
