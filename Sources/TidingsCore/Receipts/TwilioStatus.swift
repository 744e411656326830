/// Twilio's status callback (`MessageStatus`, `ErrorCode`) as a receipt. Error codes that say
/// the number cannot take SMS at all bounce hard; a filter or a blocked sender is a failure of
/// the message, not of the address; anything else undelivered bounces soft.
public enum TwilioStatus {
    /// Invalid number, not a mobile number, unknown destination, landline or unreachable carrier.
    static let hardCodes: Set<String> = ["21211", "21614", "30005", "30006"]
    /// Blocked, carrier violation, filtered as spam.
    static let failureCodes: Set<String> = ["30004", "30007", "30034"]

    /// Nil for a status that is not final (`queued`, `sending`, `sent`, `accepted`, `scheduled`).
    public static func receipt(_ parameters: [(String, String)], key: String, customerID: String) -> Receipt? {
        func value(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }
        let code = value("ErrorCode").flatMap { $0.isEmpty ? nil : $0 }
        let reason = code.map { "Twilio error \($0)" }
        let address = value("To")
        switch value("MessageStatus") ?? value("SmsStatus") {
        case "delivered", "read":
            return Receipt(key: key, status: .delivered, channel: .sms, address: address, customerID: customerID, reason: nil, provider: "twilio")
        case "undelivered":
            if let code, failureCodes.contains(code) {
                return Receipt(key: key, status: .failed, channel: .sms, address: address, customerID: customerID, reason: reason, provider: "twilio")
            }
            let kind: Receipt.Kind = code.map(hardCodes.contains) == true ? .hard : .soft
            return Receipt(key: key, status: .bounced, kind: kind, channel: .sms, address: address, customerID: customerID, reason: reason,
                           provider: "twilio")
        case "failed":
            let kind: Receipt.Kind? = code.map(hardCodes.contains) == true ? .hard : nil
            return Receipt(key: key, status: kind == nil ? .failed : .bounced, kind: kind, channel: .sms, address: address, customerID: customerID,
                           reason: reason, provider: "twilio")
        default:
            return nil
        }
    }
}
