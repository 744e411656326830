import Foundation
import TidingsCore

extension OperatorAction.Actor {
    /// The user running a command, as the system names them (not `$USER`, which anyone
    /// sets), and who ran it through sudo.
    static var commandLine: OperatorAction.Actor {
        let uid = getuid()
        let user = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
        // SUDO_USER is anyone's to set: believed only from a process sudo made root.
        let sudo = uid == 0 ? ProcessInfo.processInfo.environment["SUDO_USER"].map { " (sudo by \($0))" } ?? "" : ""
        return OperatorAction.Actor(via: .cli, name: user + sudo)
    }
}
