import TidingsCore
/// Errors of the delivery domain: a message that cannot be built or a channel that cannot start.
public struct DeliveryError: DomainError {
    public enum Code: String, Sendable {
        case transport = "delivery.transport"
        case invalidMessage = "delivery.invalid_message"
        case configuration = "delivery.configuration"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
