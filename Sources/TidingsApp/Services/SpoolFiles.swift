import Foundation
import TidingsCore
import TidingsDelivery

/// The spool's copies of messages, named as `SpoolTransport` names them, removed when what
/// they said must go.
enum SpoolFiles {
    /// Removes the files of these messages; returns how many went and the ones that could not
    /// be removed, with why.
    static func remove(keys: [String], directory: String) -> (removed: Int, left: [String]) {
        var removed = 0
        var left: [String] = []
        let files = FileManager.default
        for key in keys {
            for channel in Channel.allCases {
                let path = SpoolTransport.directory(of: channel, in: directory) + "/" + SpoolTransport.fileName(key: key, channel: channel)
                guard files.fileExists(atPath: path) else { continue }
                do {
                    try files.removeItem(atPath: path)
                    removed += 1
                } catch {
                    left.append("\(path): \(error.localizedDescription)")
                }
            }
        }
        return (removed, left)
    }
}
