import Synchronization

/// A value handed to another thread to be taken there, once, so that it is also freed there:
/// `tidings append` hands each chunk to the writer, which frees its parsed events while the
/// command prepares the next chunk.
public final class Handover<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    public init(_ value: consuming Value) {
        self.value = Mutex(value)
    }

    /// The value, the first time; nil after.
    public func take() -> Value? {
        value.withLock { held in
            defer { held = nil }
            return held
        }
    }
}
