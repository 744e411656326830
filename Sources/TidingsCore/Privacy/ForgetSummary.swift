import Foundation

/// What `tidings forget` erased, on either backend.
public struct ForgetSummary: Sendable, Hashable {
    /// Where the `customer.forgotten` event stands in the log.
    public var position: Int64
    public var orders: Int
    public var tickets: Int
    /// The customer's messages, whatever their state: their contexts and addresses are gone.
    public var messages: Int
    /// Of those, the ones that will now never go out.
    public var unsent: Int
    /// Their idempotency keys: what the spool named its files by.
    public var keys: [String]
    /// The orders and tickets purged, for the pipeline's models.
    public var orderIDs: [String]
    public var ticketIDs: [String]

    public init(position: Int64, orders: Int, tickets: Int, messages: Int, unsent: Int, keys: [String], orderIDs: [String] = [],
                ticketIDs: [String] = []) {
        self.position = position
        self.orders = orders
        self.tickets = tickets
        self.messages = messages
        self.unsent = unsent
        self.keys = keys
        self.orderIDs = orderIDs
        self.ticketIDs = ticketIDs
    }
}
