import Foundation

/// Realistic CloudEvents for the scenarios, as NDJSON lines: customers, orders through their
/// lifecycle, tickets. Ids are unique per `run`, so every event is a new one for the log.
struct EventFactory {
    let run: String
    let source = "urn:bench:shop"
    /// Event times: now, so deadlines (ship by, deliver by, promised replies) lie ahead and
    /// no timer fires during a scenario.
    let time: String
    let shipBy: String
    let deliverBy: String
    let estimate: String

    init(run: String, now: Date = Date()) {
        self.run = run
        let format = ISO8601DateFormatter()
        time = format.string(from: now)
        shipBy = format.string(from: now.addingTimeInterval(20 * 86_400))
        deliverBy = format.string(from: now.addingTimeInterval(30 * 86_400))
        estimate = format.string(from: now.addingTimeInterval(25 * 86_400))
    }

    enum Preference: String {
        /// Email only: no phone, no consent to anything else.
        case email
        /// SMS first (with consent), email as fallback.
        case sms
        /// SMS only: a phone and consent, no email address.
        case smsOnly
    }

    private func envelope(_ id: String, _ type: String, _ subject: String, _ data: String) -> String {
        #"{"specversion":"1.0","id":"\#(run)-\#(id)","source":"\#(source)","type":"\#(type)","subject":"\#(subject)","time":"\#(time)","datacontenttype":"application/json","data":\#(data)}"#
    }

    func customerRegistered(_ customer: String, email: String? = nil, preference: Preference = .email) -> String {
        let address = email ?? "\(customer)@bench.example"
        // A stable number per customer: +44 7700 9xx xxx is the UK's range for drama and tests.
        let digits = customer.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFFFF } % 1_000_000
        let phone = "+4477009" + String(repeating: "0", count: 6 - String(digits).count) + String(digits)
        let channels = preference == .email ? #"["email"]"# : #"["sms","email"]"#
        let consent = preference == .email ? "false" : "true"
        let mail = preference == .smsOnly ? "" : #""email":"\#(address)","#
        return envelope("cr-\(customer)", "customer.registered", customer, #"""
            {"name":"Customer \#(customer)",\#(mail)"phone":"\#(phone)","locale":"en","timezone":"Europe/London","preferences":{"channels":\#(channels),"consent":{"sms":\#(consent),"messenger":false},"opt_out":[]}}
            """#)
    }

    func customerUpdated(_ customer: String) -> String {
        envelope("cu-\(customer)", "customer.updated", customer, #"{"locale":"en","timezone":"Europe/London"}"#)
    }

    func orderPlaced(_ order: String, customer: String, region: String = "North West") -> String {
        envelope("op-\(order)", "order.placed", order, #"""
            {"customer_id":"\#(customer)","items":[{"sku":"MUG-STN-350","name":"Stoneware mug, sage, 350 ml","quantity":2,"unit_price":14.5},{"sku":"TEA-ASM-250","name":"Assam breakfast tea, 250 g","quantity":1,"unit_price":8.9}],"total":37.9,"currency":"GBP","ship_by":"\#(shipBy)","deliver_by":"\#(deliverBy)","shipping":{"region":"\#(region)","postcode":"M1 1AA","carrier":"DPD"}}
            """#)
    }

    func orderShipped(_ order: String) -> String {
        envelope("os-\(order)", "order.shipped", order, #"""
            {"carrier":"DPD","tracking_number":"TRK\#(order)","tracking_url":"https://track.example/TRK\#(order)","estimated_delivery":"\#(estimate)"}
            """#)
    }

    func orderDelayed(_ order: String) -> String {
        envelope("od-\(order)", "order.delayed", order, #"{"reason":"a sorting centre backlog","new_estimate":"\#(estimate)"}"#)
    }

    func orderOutForDelivery(_ order: String) -> String {
        envelope("oo-\(order)", "order.out_for_delivery", order, #"{"at":"\#(time)"}"#)
    }

    func orderDelivered(_ order: String) -> String {
        envelope("ov-\(order)", "order.delivered", order, #"{"at":"\#(time)"}"#)
    }

    func ticketOpened(_ ticket: String, customer: String, kind: String = "complaint", order: String? = nil) -> String {
        let about = order.map { #","order_id":"\#($0)""# } ?? ""
        return envelope("to-\(ticket)", "ticket.opened", ticket, #"""
            {"customer_id":"\#(customer)","kind":"\#(kind)","summary":"The parcel arrived with a cracked mug","channel":"email"\#(about)}
            """#)
    }

    func ticketReplied(_ ticket: String) -> String {
        envelope("tr-\(ticket)", "ticket.replied", ticket, #"{"by":"agent-7","note":"Sorry about that; a replacement is on its way."}"#)
    }

    func ticketResolved(_ ticket: String) -> String {
        envelope("tv-\(ticket)", "ticket.resolved", ticket, #"{"by":"agent-7","note":"Replacement delivered."}"#)
    }

    func disruption(region: String) -> String {
        envelope("dis-\(region.lowercased().replacingOccurrences(of: " ", with: "-"))", "shipping.disruption_announced", "disruption-\(run)",
                 #"{"region":"\#(region)","reason":"heavy snow","new_estimate":"\#(estimate)"}"#)
    }

    /// The catch-up backlog: per index ten events (customer registered and updated; order
    /// placed, shipped, delayed, out for delivery, delivered; ticket opened, replied, resolved),
    /// each stage `spread` positions after the one before, so entities interleave as in a real log.
    func lifecycle(count: Int, spread: Int, emit: (String) throws -> Void) rethrows {
        let stages: [(Int) -> String] = [
            { customerRegistered("c\($0)", preference: $0 % 3 == 0 ? .sms : .email) },
            { orderPlaced("o\($0)", customer: "c\($0)") },
            { ticketOpened("t\($0)", customer: "c\($0)", kind: $0 % 2 == 0 ? "complaint" : "query", order: "o\($0)") },
            { orderShipped("o\($0)") },
            { ticketReplied("t\($0)") },
            { customerUpdated("c\($0)") },
            { orderDelayed("o\($0)") },
            { orderOutForDelivery("o\($0)") },
            { orderDelivered("o\($0)") },
            { ticketResolved("t\($0)") },
        ]
        for step in 0..<(count + spread * (stages.count - 1)) {
            for (stage, make) in stages.enumerated() {
                let index = step - stage * spread
                if index >= 0 && index < count { try emit(make(index)) }
            }
        }
    }
}

/// Writes NDJSON lines to a file in large chunks.
struct NDJSONFile {
    let url: URL
    private var buffer: [UInt8] = []
    private let handle: FileHandle
    private(set) var count = 0

    init(_ url: URL) throws {
        self.url = url
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        buffer.reserveCapacity(1 << 20)
    }

    mutating func add(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        count += 1
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        flush()
        try handle.close()
    }
}
