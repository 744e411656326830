import Foundation

/// Something an operator did by hand (a retry, enabling endpoints), recorded in the same
/// transaction as its effect: the console lists them, whichever door they came through.
public struct OperatorAction: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case retry = "message.retry"
        case enableEndpoints = "endpoints.enable"
    }

    /// The door an action came through.
    public enum Via: String, Sendable, CaseIterable {
        case console, api, cli
    }

    /// Who asked: a console login or API token by its name, or the command line's user.
    public struct Actor: Sendable, Hashable {
        public var via: Via
        public var name: String

        public init(via: Via, name: String) {
            self.via = via
            self.name = name
        }
    }

    public var at: Date
    public var actor: Actor
    public var kind: Kind
    /// A message id, `all dead`, or a channel.
    public var target: String
    /// How many things it changed: 0 is recorded too (asked, but nothing was dead).
    public var affected: Int

    public init(at: Date, actor: Actor, kind: Kind, target: String, affected: Int) {
        self.at = at
        self.actor = actor
        self.kind = kind
        self.target = target
        self.affected = affected
    }

    /// A row as the stores keep it; nil for a door or kind this version does not know (the
    /// store says so with `unknownRow`: a newer version may be writing).
    public init?(at: Double, via: String, actor: String, kind: String, target: String, affected: Int) {
        guard let door = Via(rawValue: via), let what = Kind(rawValue: kind) else { return nil }
        self.init(at: Date(timeIntervalSince1970: at), actor: Actor(via: door, name: actor), kind: what, target: target, affected: affected)
    }

    public static func unknownRow(via: String, kind: String) -> String {
        "an operator action reads \(via) \(kind): not a door and kind this version knows (is a newer version writing?)"
    }

    /// What a retry of one message, or of every dead one, names as its target.
    public static func retryTarget(_ messageID: Int64?) -> String { messageID.map(String.init) ?? "all dead" }
}
