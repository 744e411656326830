import Foundation

extension Order: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) { try self.init(fields: FieldReader(json, "order")) }

    public init(documentBytes: [UInt8]) throws(ModelDecodingError) { try self.init(fields: FieldReader(document: documentBytes, "order")) }

    init(fields r: FieldReader) throws(ModelDecodingError) {
        var items: [Item] = []
        for i in try r.objects("items") {
            items.append(Item(sku: try i.string("sku"), name: try i.string("name"), quantity: try i.number("quantity"),
                              unitPrice: try i.number("unitPrice")))
        }
        self.init(id: try r.string("id"), customerID: try r.string("customerID"), status: try r.raw("status", as: Status.self), items: items,
                  total: try r.number("total"), currency: try r.string("currency"), placedAt: try r.date("placedAt"),
                  shipBy: try r.optionalDate("shipBy"), deliverBy: try r.optionalDate("deliverBy"))
        if let s = try r.object("shipping") {
            self.shipping = Shipping(region: try s.optionalString("region"), postcode: try s.optionalString("postcode"),
                                     carrier: try s.optionalString("carrier"))
        }
        if let t = try r.object("tracking") {
            self.tracking = Tracking(carrier: try t.optionalString("carrier"), number: try t.optionalString("number"),
                                     url: try t.optionalString("url"), estimatedDelivery: try t.optionalString("estimatedDelivery"))
        }
        outOfStock = try r.strings("outOfStock")
        timeline = try TimelineEntry.list(try r.objects("timeline"))
        delayNoticeAt = try r.optionalDate("delayNoticeAt")
        delayNoticeHeld = try r.optionalBool("delayNoticeHeld")
        delayNoticePosition = try r.optionalPosition("delayNoticePosition")
    }

    public var json: JSONValue { FieldWriter.value { write(to: &$0) } }

    public func document() throws(JSONValue.EncodingError) -> [UInt8] { try DocumentWriter.document { write(to: &$0) } }

    /// Keys in sorted order (`FieldSink`).
    func write<Sink: FieldSink>(to w: inout Sink) {
        w.set("currency", currency)
        w.set("customerID", customerID)
        w.set("delayNoticeAt", delayNoticeAt)
        w.set("delayNoticeHeld", delayNoticeHeld)
        w.set("delayNoticePosition", delayNoticePosition)
        w.set("deliverBy", deliverBy)
        w.set("id", id)
        w.objects("items", items) { w, item in
            w.set("name", item.name)
            w.set("quantity", item.quantity)
            w.set("sku", item.sku)
            w.set("unitPrice", item.unitPrice)
        }
        w.set("outOfStock", strings: outOfStock)
        w.set("placedAt", placedAt)
        w.set("shipBy", shipBy)
        if let shipping {
            w.object("shipping") { w in
                w.set("carrier", shipping.carrier)
                w.set("postcode", shipping.postcode)
                w.set("region", shipping.region)
            }
        }
        w.set("status", status.rawValue)
        w.objects("timeline", timeline) { w, entry in entry.write(to: &w) }
        w.set("total", total)
        if let tracking {
            w.object("tracking") { w in
                w.set("carrier", tracking.carrier)
                w.set("estimatedDelivery", tracking.estimatedDelivery)
                w.set("number", tracking.number)
                w.set("url", tracking.url)
            }
        }
    }
}
