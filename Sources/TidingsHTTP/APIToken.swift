import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// What a token may do.
public enum Scope: String, Sendable, CaseIterable {
    /// Post events.
    case ingest
    /// Read orders, tickets, messages, deliveries.
    case read
    /// Retry deliveries, besides everything `read` may do.
    case admin
}

/// A bearer token from the configuration. Only its SHA-256 digest is kept; a presented token
/// is hashed and compared with every known digest in constant time.
public struct APIToken: Sendable {
    public var name: String
    public var scopes: Set<Scope>
    let digest: [UInt8]

    public init(name: String, scopes: Set<Scope>, token: String) {
        self.name = name
        self.scopes = scopes
        digest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Parses `name scope[,scope] token` entries, one per line (or separated by `;`).
    public static func parse(_ text: String) throws(TokenSyntaxError) -> [APIToken] {
        var tokens: [APIToken] = []
        for (index, entry) in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }).enumerated() {
            let parts = entry.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard !parts.isEmpty else { continue }
            guard parts.count == 3 else { throw TokenSyntaxError(entry: index + 1, problem: "expected `name scopes token`") }
            var scopes: Set<Scope> = []
            for name in parts[1].split(separator: ",") {
                guard let scope = Scope(rawValue: String(name)) else {
                    throw TokenSyntaxError(entry: index + 1, problem: "unknown scope \"\(name)\"; scopes are ingest, read, admin")
                }
                scopes.insert(scope)
            }
            guard parts[2].count >= 16 else { throw TokenSyntaxError(entry: index + 1, problem: "the token is shorter than 16 characters") }
            tokens.append(APIToken(name: parts[0], scopes: scopes, token: parts[2]))
        }
        return tokens
    }
}

public struct TokenSyntaxError: Error, Sendable {
    public var entry: Int
    public var problem: String
}

/// Checks `Authorization: Bearer …` against the configured tokens.
struct TokenCheck: Sendable {
    let tokens: [APIToken]

    /// The token's name, or a 401 (no or unknown token) or 403 (a token without the scope).
    func authorize(_ request: Request, _ scope: Scope) throws(Problem) -> String {
        guard let header = request.headers[.authorization], let presented = Self.bearer(header) else {
            throw Problem.unauthorized("send `Authorization: Bearer <token>` with a token that has the \(scope.rawValue) scope")
        }
        guard let match = token(presented: presented) else {
            throw Problem.unauthorized("the bearer token is not known")
        }
        guard match.scopes.contains(scope) || (scope == .read && match.scopes.contains(.admin)) else {
            throw Problem(.forbidden, "Forbidden", detail: "token \"\(match.name)\" lacks the \(scope.rawValue) scope")
        }
        return match.name
    }

    /// The token of a `Bearer` header (the scheme in any case), without the spaces and tabs
    /// around it (HTTP's optional white space; tokens are ASCII, so other white space there
    /// makes an unknown token, as before). By bytes: lower-casing and trimming through
    /// Foundation cost every request a few microseconds.
    static func bearer(_ header: String) -> Substring? {
        let scheme = header.utf8.prefix(7)
        let folded = scheme.lazy.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard folded.elementsEqual("bearer ".utf8) else { return nil }
        var token = header.utf8.dropFirst(7)
        while let first = token.first, first == 0x20 || first == 0x09 { token.removeFirst() }
        while let last = token.last, last == 0x20 || last == 0x09 { token.removeLast() }
        return Substring(token)
    }

    /// The configured token a presented one is, compared with every digest (timing tells
    /// nothing about which, or how close).
    func token(presented: some StringProtocol) -> APIToken? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var match: APIToken?
        for token in tokens where Self.equal(token.digest, digest) { match = token }
        return match
    }

    /// Compares every byte whatever the first difference, so timing tells nothing.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
