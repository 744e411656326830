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

        /// The user running a command, as the system names them (not `$USER`, which anyone
        /// sets), and who ran it through sudo.
        public static var commandLine: Actor {
            let uid = getuid()
            let user = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
            // SUDO_USER is anyone's to set: believed only from a process sudo made root.
            let sudo = uid == 0 ? ProcessInfo.processInfo.environment["SUDO_USER"].map { " (sudo by \($0))" } ?? "" : ""
            return Actor(via: .cli, name: user + sudo)
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

    /// What a retry of one message, or of every dead one, names as its target.
    public static func retryTarget(_ messageID: Int64?) -> String { messageID.map(String.init) ?? "all dead" }
}
