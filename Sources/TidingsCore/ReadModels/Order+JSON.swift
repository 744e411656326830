import Foundation

extension Order: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) {
        let r = try FieldReader(json, "order")
        var items: [Item] = []
        for item in try r.array("items") {
            let i = try FieldReader(item, "order.items")
            items.append(Item(sku: try i.string("sku"), name: try i.string("name"), quantity: try i.number("quantity"),
                              unitPrice: try i.number("unitPrice")))
        }
        self.init(id: try r.string("id"), customerID: try r.string("customerID"), status: try r.raw("status", as: Status.self), items: items,
                  total: try r.number("total"), currency: try r.string("currency"), placedAt: try r.date("placedAt"),
                  shipBy: try r.optionalDate("shipBy"), deliverBy: try r.optionalDate("deliverBy"))
        if let shipping = r.present("shipping") {
            let s = try FieldReader(shipping, "order.shipping")
            self.shipping = Shipping(region: try s.optionalString("region"), postcode: try s.optionalString("postcode"),
                                     carrier: try s.optionalString("carrier"))
        }
        if let tracking = r.present("tracking") {
            let t = try FieldReader(tracking, "order.tracking")
            self.tracking = Tracking(carrier: try t.optionalString("carrier"), number: try t.optionalString("number"),
                                     url: try t.optionalString("url"), estimatedDelivery: try t.optionalString("estimatedDelivery"))
        }
        outOfStock = try r.strings("outOfStock")
        timeline = try TimelineEntry.list(try r.array("timeline"))
        delayNoticeAt = try r.optionalDate("delayNoticeAt")
        delayNoticeHeld = try r.optionalBool("delayNoticeHeld")
        delayNoticePosition = try r.optionalPosition("delayNoticePosition")
    }

    public var json: JSONValue {
        var w = FieldWriter()
        w.set("id", id)
        w.set("customerID", customerID)
        w.set("status", status.rawValue)
        w.set("items", JSONValue.array(items.map { item in
            ["sku": .string(item.sku), "name": .string(item.name), "quantity": .number(item.quantity), "unitPrice": .number(item.unitPrice)]
        }))
        w.set("total", total)
        w.set("currency", currency)
        w.set("placedAt", placedAt)
        w.set("shipBy", shipBy)
        w.set("deliverBy", deliverBy)
        if let shipping {
            var s = FieldWriter()
            s.set("region", shipping.region)
            s.set("postcode", shipping.postcode)
            s.set("carrier", shipping.carrier)
            w.set("shipping", s.value)
        }
        if let tracking {
            var t = FieldWriter()
            t.set("carrier", tracking.carrier)
            t.set("number", tracking.number)
            t.set("url", tracking.url)
            t.set("estimatedDelivery", tracking.estimatedDelivery)
            w.set("tracking", t.value)
        }
        w.set("outOfStock", strings: outOfStock)
        w.set("timeline", JSONValue.array(timeline.map(\.json)))
        w.set("delayNoticeAt", delayNoticeAt)
        w.set("delayNoticeHeld", delayNoticeHeld)
        w.set("delayNoticePosition", delayNoticePosition)
        return w.value
    }
}
