import Foundation

/// How long the shop promises to take over each kind of ticket, counted in its business
/// calendar, and how it paces delay alerts.
public struct ServicePromises: Sendable, Hashable {
    public struct Promise: Sendable, Hashable {
        /// Working hours until the first personal reply.
        public var firstResponseHours: Int
        /// Working days until the ticket is resolved.
        public var resolutionDays: Int

        public init(firstResponseHours: Int, resolutionDays: Int) {
            self.firstResponseHours = firstResponseHours
            self.resolutionDays = resolutionDays
        }
    }

    /// A ticket's deadlines, computed once when it opens.
    public struct Deadlines: Sendable, Hashable {
        public var firstResponse: Date
        public var resolution: Date
        /// When to say that more time is needed; nil when the promise is too short for it.
        public var dueSoon: Date?
    }

    public var byKind: [String: Promise]
    public var fallback: Promise
    public var calendar: BusinessCalendar
    /// Working days before the resolution deadline at which the customer is told more time is
    /// needed (0: never); at most a third of the promise.
    public var dueSoonDays: Int
    /// A customer told about a delay within this many seconds is not told again by a proactive
    /// alert (a deadline passing or a disruption); staff still are.
    public var delayAlertWindow: TimeInterval

    public init(byKind: [String: Promise] = [:], fallback: Promise = Promise(firstResponseHours: 24, resolutionDays: 30),
                calendar: BusinessCalendar = .standard, dueSoonDays: Int = 5, delayAlertWindow: TimeInterval = 3 * 86_400) {
        self.byKind = byKind
        self.fallback = fallback
        self.calendar = calendar
        self.dueSoonDays = dueSoonDays
        self.delayAlertWindow = delayAlertWindow
    }

    public static let standard = ServicePromises(byKind: [
        "complaint": Promise(firstResponseHours: 8, resolutionDays: 30),
        "query": Promise(firstResponseHours: 8, resolutionDays: 7),
        "return": Promise(firstResponseHours: 16, resolutionDays: 14),
        "feedback": Promise(firstResponseHours: 24, resolutionDays: 30),
    ])

    public func promise(for kind: String) -> Promise { byKind[kind] ?? fallback }

    public func deadlines(kind: String, openedAt: Date) -> Deadlines {
        let promise = promise(for: kind)
        let resolution = calendar.closeOfBusiness(workingDays: promise.resolutionDays, after: openedAt)
        // At most a third of the promise ahead: a 7-day query hears 2 days before, not after 2 days.
        let lead = min(dueSoonDays, promise.resolutionDays / 3)
        let dueSoon = lead > 0 ? calendar.opening(workingDays: lead, before: resolution) : nil
        return Deadlines(firstResponse: calendar.adding(workingHours: Double(promise.firstResponseHours), to: openedAt),
                         resolution: resolution, dueSoon: dueSoon)
    }
}
