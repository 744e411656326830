/// The shape every domain's error shares: a stable code for machines and logs, and a message a
/// person can act on. Each domain keeps its own struct and its own codes.
public protocol DomainError: Error, Sendable, CustomStringConvertible {
    associatedtype Code: RawRepresentable & Sendable where Code.RawValue == String
    var code: Code { get }
    var message: String { get }
}

extension DomainError {
    public var description: String { "\(message) [\(code.rawValue)]" }
}
