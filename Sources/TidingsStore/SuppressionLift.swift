import Foundation
import TidingsCore

/// The events that lift an address's suppression: one per customer who has it suppressed.
/// The HTTP API and `tidings suppressions remove` both record them.
public enum SuppressionLift {
    public static func events(for suppressed: [SuppressedAddress], address: String, at time: Date) -> [CloudEvent] {
        suppressed.filter { Customer.sameAddress($0.suppression.address, address, on: $0.suppression.channel) }.map { entry in
            Suppression.lifted(customerID: entry.customerID, channel: entry.suppression.channel, address: entry.suppression.address,
                               id: "lift-\(UUID().uuidString.lowercased())", at: time)
        }
    }
}
