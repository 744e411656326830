import Foundation

extension Ticket: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) { try self.init(fields: FieldReader(json, "ticket")) }

    public init(documentBytes: [UInt8]) throws(ModelDecodingError) { try self.init(fields: FieldReader(document: documentBytes, "ticket")) }

    init(fields r: FieldReader) throws(ModelDecodingError) {
        self.init(id: try r.string("id"), customerID: try r.string("customerID"), kind: try r.string("kind"),
                  status: try r.raw("status", as: Status.self), summary: try r.optionalString("summary"), orderID: try r.optionalString("orderID"),
                  channel: try r.optionalString("channel"), openedAt: try r.date("openedAt"), firstResponseAt: try r.optionalDate("firstResponseAt"),
                  resolvedAt: try r.optionalDate("resolvedAt"), firstResponseDue: try r.date("firstResponseDue"),
                  resolutionDue: try r.date("resolutionDue"), resolutionDueSoon: try r.optionalDate("resolutionDueSoon"),
                  timeline: try TimelineEntry.list(try r.objects("timeline")))
    }

    public var json: JSONValue { FieldWriter.value { write(to: &$0) } }

    public func document() throws(JSONValue.EncodingError) -> [UInt8] { try DocumentWriter.document { write(to: &$0) } }

    /// Keys in sorted order (`FieldSink`).
    func write<Sink: FieldSink>(to w: inout Sink) {
        w.set("channel", channel)
        w.set("customerID", customerID)
        w.set("firstResponseAt", firstResponseAt)
        w.set("firstResponseDue", firstResponseDue)
        w.set("id", id)
        w.set("kind", kind)
        w.set("openedAt", openedAt)
        w.set("orderID", orderID)
        w.set("resolutionDue", resolutionDue)
        w.set("resolutionDueSoon", resolutionDueSoon)
        w.set("resolvedAt", resolvedAt)
        w.set("status", status.rawValue)
        w.set("summary", summary)
        w.objects("timeline", timeline) { w, entry in entry.write(to: &w) }
    }
}
