/// The shop's own details, shown in every message.
public struct ShopInfo: Sendable, Hashable {
    public var name: String
    public var email: String
    public var url: String
    public var phone: String

    public init(name: String, email: String, url: String, phone: String) {
        self.name = name
        self.email = email
        self.url = url
        self.phone = phone
    }
}
