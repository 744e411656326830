import Foundation

extension Ticket: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) {
        let r = try FieldReader(json, "ticket")
        self.init(id: try r.string("id"), customerID: try r.string("customerID"), kind: try r.string("kind"),
                  status: try r.raw("status", as: Status.self), summary: try r.optionalString("summary"), orderID: try r.optionalString("orderID"),
                  channel: try r.optionalString("channel"), openedAt: try r.date("openedAt"), firstResponseAt: try r.optionalDate("firstResponseAt"),
                  resolvedAt: try r.optionalDate("resolvedAt"), firstResponseDue: try r.date("firstResponseDue"),
                  resolutionDue: try r.date("resolutionDue"), resolutionDueSoon: try r.optionalDate("resolutionDueSoon"),
                  timeline: try TimelineEntry.list(try r.array("timeline")))
    }

    public var json: JSONValue {
        var w = FieldWriter()
        w.set("id", id)
        w.set("customerID", customerID)
        w.set("kind", kind)
        w.set("status", status.rawValue)
        w.set("summary", summary)
        w.set("orderID", orderID)
        w.set("channel", channel)
        w.set("openedAt", openedAt)
        w.set("firstResponseAt", firstResponseAt)
        w.set("resolvedAt", resolvedAt)
        w.set("firstResponseDue", firstResponseDue)
        w.set("resolutionDue", resolutionDue)
        w.set("resolutionDueSoon", resolutionDueSoon)
        w.set("timeline", JSONValue.array(timeline.map(\.json)))
        return w.value
    }
}
