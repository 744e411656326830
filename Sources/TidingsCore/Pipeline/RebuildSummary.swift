import Foundation

/// What a rebuild of the read models and timers did, on either backend.
public struct RebuildSummary: Sendable {
    public var events: Int
    public var checkpoint: Int64
    public var customers: Int
    public var orders: Int
    public var tickets: Int
    public var timers: Int
    /// Events left waiting for an order or ticket that does not exist (as the pipeline holds them).
    public var waiting: Int
    public var generation: Int64

    public init(events: Int, checkpoint: Int64, customers: Int, orders: Int, tickets: Int, timers: Int, waiting: Int, generation: Int64) {
        self.events = events
        self.checkpoint = checkpoint
        self.customers = customers
        self.orders = orders
        self.tickets = tickets
        self.timers = timers
        self.waiting = waiting
        self.generation = generation
    }
}
