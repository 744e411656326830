import Foundation

/// An event with its canonical bytes (`raw.encoded()`), encoded once and off the writer: the
/// log stores these bytes, unless the event's personal fields are sealed first.
public struct EncodedEvent: Sendable {
    public var event: CloudEvent
    /// Nil when the writer is to encode it (HTTP ingest: the encoding of an event whose
    /// personal fields are sealed would be thrown away).
    public var body: Data?
    /// Set once `body` is sealed already (`sealed(key:owner:)`): whose key, and the key, which
    /// the writer checks against the stored one before it keeps the body.
    public private(set) var sealedFor: String?
    public private(set) var sealedWith: Data?

    public init(_ event: CloudEvent) throws(JSONValue.EncodingError) {
        self.event = event
        self.body = try event.raw.encoded()
    }

    public init(unencoded event: CloudEvent) {
        self.event = event
    }

    /// The body with the event's personal fields sealed with `key`, off the writer.
    public func sealed(key: Data, owner: String, nonces: inout Sealing.Nonces) throws -> EncodedEvent {
        var sealed = self
        sealed.body = try sealedBody(key: key, owner: owner, nonces: &nonces)
        sealed.sealedFor = owner
        sealed.sealedWith = key
        return sealed
    }

    /// What the log stores for the event when `owner`'s key is `key`.
    public func sealedBody(key: Data, owner: String, nonces: inout Sealing.Nonces) throws -> Data {
        try Sealing.seal(event.raw, type: event.type, customerID: owner, key: key, nonces: &nonces).encoded()
    }
}
