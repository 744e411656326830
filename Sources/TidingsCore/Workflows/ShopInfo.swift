/// The shop's own details, shown in every message.
public struct ShopInfo: Sendable, Hashable {
    public var name: String
    public var email: String
    public var url: String
    public var phone: String
    /// Where a customer can take a complaint the shop did not resolve in time (an ombudsman, an
    /// arbitration board), quoted when a resolution deadline passes.
    public var complaintReferral: String

    public init(name: String, email: String, url: String, phone: String, complaintReferral: String = "") {
        self.name = name
        self.email = email
        self.url = url
        self.phone = phone
        self.complaintReferral = complaintReferral
    }
}
