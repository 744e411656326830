/// Where a message can go: a channel and the customer's address on it.
public struct Route: Codable, Sendable, Hashable {
    public var channel: Channel
    public var recipient: String

    public init(channel: Channel, recipient: String) {
        self.channel = channel
        self.recipient = recipient
    }
}

extension Route {
    /// A list of routes as the outbox stores it (`[{"channel":"sms","recipient":"+44…"}]`, the
    /// form `JSONEncoder` wrote), without Foundation's coders on the hot path.
    public static func document(_ routes: [Route]) throws(JSONValue.EncodingError) -> String {
        try JSONValue.array(routes.map { ["channel": .string($0.channel.rawValue), "recipient": .string($0.recipient)] }).encodedString()
    }

    /// Routes read back; nil when the text is not such a list.
    public static func routes(_ document: String) -> [Route]? {
        guard let items = (try? JSONValue.parse(Array(document.utf8)))?.arrayValue else { return nil }
        var routes: [Route] = []
        for item in items {
            guard let channel = item["channel"]?.stringValue.flatMap(Channel.init(rawValue:)), let recipient = item["recipient"]?.stringValue
            else { return nil }
            routes.append(Route(channel: channel, recipient: recipient))
        }
        return routes
    }
}
