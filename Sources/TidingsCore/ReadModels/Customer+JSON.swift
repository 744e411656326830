import Foundation

extension Customer: JSONModel {
    public init(json: JSONValue) throws(ModelDecodingError) { try self.init(fields: FieldReader(json, "customer")) }

    public init(documentBytes: [UInt8]) throws(ModelDecodingError) { try self.init(fields: FieldReader(document: documentBytes, "customer")) }

    init(fields r: FieldReader) throws(ModelDecodingError) {
        self.init(id: try r.string("id"))
        name = try r.optionalString("name")
        givenName = try r.optionalString("givenName")
        familyName = try r.optionalString("familyName")
        greetingName = try r.optionalString("greetingName")
        email = try r.optionalString("email")
        phone = try r.optionalString("phone")
        messengerID = try r.optionalString("messengerID")
        locale = try r.optionalString("locale")
        timezone = try r.optionalString("timezone")
        registeredAt = try r.optionalDate("registeredAt")
        updatedAt = try r.optionalDate("updatedAt")
        // Absent in documents written before receipts existed.
        suppressed = try r.objects("suppressed").map { s throws(ModelDecodingError) in
            return Suppression(channel: try s.raw("channel", as: Channel.self), address: try s.string("address"),
                               reason: try s.raw("reason", as: Suppression.Reason.self), detail: try s.optionalString("detail"),
                               since: try s.date("since"), key: try s.optionalString("key"))
        }
        if let p = try r.object("preferences") {
            self.preferences.channels = try p.strings("channels").compactMap(Channel.init(rawValue:))
            self.preferences.consent = Set(try p.strings("consent").compactMap(Channel.init(rawValue:)))
            self.preferences.optOut = Set(try p.strings("optOut"))
            if let q = try p.object("quietHours") {
                self.preferences.quietHours = QuietHours(start: try q.string("start"), end: try q.string("end"))
            }
        }
    }

    public var json: JSONValue { FieldWriter.value { write(to: &$0) } }

    public func document() throws(JSONValue.EncodingError) -> [UInt8] { try DocumentWriter.document { write(to: &$0) } }

    /// Keys in sorted order (`FieldSink`).
    func write<Sink: FieldSink>(to w: inout Sink) {
        w.set("email", email)
        w.set("familyName", familyName)
        w.set("givenName", givenName)
        w.set("greetingName", greetingName)
        w.set("id", id)
        w.set("locale", locale)
        w.set("messengerID", messengerID)
        w.set("name", name)
        w.set("phone", phone)
        w.object("preferences") { p in
            p.set("channels", strings: preferences.channels.map(\.rawValue))
            // Sorted, so the same preferences always write the same bytes.
            p.set("consent", strings: preferences.consent.map(\.rawValue).sorted())
            p.set("optOut", strings: preferences.optOut.sorted())
            if let quiet = preferences.quietHours {
                p.object("quietHours") { q in
                    q.set("end", quiet.end)
                    q.set("start", quiet.start)
                }
            }
        }
        w.set("registeredAt", registeredAt)
        w.objects("suppressed", suppressed) { f, s in
            f.set("address", s.address)
            f.set("channel", s.channel.rawValue)
            f.set("detail", s.detail)
            f.set("key", s.key)
            f.set("reason", s.reason.rawValue)
            f.set("since", s.since)
        }
        w.set("timezone", timezone)
        w.set("updatedAt", updatedAt)
    }
}
