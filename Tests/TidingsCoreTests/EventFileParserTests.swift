import Foundation
import Testing
@testable import TidingsCore

/// `tidings append` reads its file as a stream, a block at a time, whatever the block size.
@Suite("Event files as a stream")
struct EventFileParserTests {
    func event(_ id: String, type: String = "order.delivered") -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"urn:t","type":"\#(type)","subject":"o-1","data":{"note":"a, ] [ } { \" \\"}}"#
    }

    /// Reads `text` with blocks of `size` bytes.
    func read(_ text: String, block size: Int) throws -> (events: [String], problems: [String]) {
        var bytes = Array(text.utf8)[...]
        var parser = EventFileParser { _ in
            defer { bytes = bytes.dropFirst(size) }
            return Array(bytes.prefix(size))
        }
        var events: [String] = []
        var problems: [String] = []
        while let chunk = try parser.next(count: 3) {
            events += chunk.events.map(\.id)
            problems += chunk.problems.map(\.description)
        }
        return (events, problems)
    }

    @Test(arguments: [1, 7, 64, 1 << 20])
    func readsLinesAndArraysWhateverTheBlockSize(block: Int) throws {
        let lines = [event("a"), "", event("b"), "  ", event("c"), event("d")].joined(separator: "\n")
        #expect(try read(lines, block: block).events == ["a", "b", "c", "d"])
        #expect(try read(lines + "\n", block: block).events == ["a", "b", "c", "d"])
        let array = "\n [" + [event("a"), event("b"), event("c")].joined(separator: " ,\n") + "]\n"
        let parsed = try read(array, block: block)
        #expect(parsed.events == ["a", "b", "c"], "\(parsed)")
        #expect(try read("[]", block: block) == ([], []))
        #expect(try read("", block: block) == ([], []))
    }

    @Test func namesEachProblemByLineOrElement() throws {
        let lines = [event("a"), "", "{not json", event("b", type: "order.dispatch_overdue"), event("a").replacingOccurrences(of: "o-1", with: "o-2")]
        let found = try read(lines.joined(separator: "\n"), block: 5)
        #expect(found.events == ["a"])
        #expect(found.problems.count == 3)
        #expect(found.problems[0].hasPrefix("line 3: (json)"))
        #expect(found.problems[1].hasPrefix("line 4: type"))
        #expect(found.problems[2].hasPrefix("line 5: id") && found.problems[2].contains("also line 1"))
        #expect(try read("[\(event("a")),]", block: 3).problems == ["event 2: (json): is not valid JSON"])
        #expect(try read("[\(event("a")), \(event("b"))", block: 3).problems.last?.hasPrefix("file: (json): the JSON array has no closing ]") == true)
        let twoArrays = try read("[\(event("a"))]\n[\(event("b"))]", block: 4)
        #expect(twoArrays.problems == ["file: (json): there is more after the array's closing ]: a file holds one JSON array, or NDJSON"], "\(twoArrays)")
        #expect(try read("[\(event("a"))]  \n\n", block: 2).problems.isEmpty)
    }

    /// An event whose personal fields are sealed is compared by a hash of its tree, not of its
    /// bytes: written otherwise but the same, it is the same; one field other, it is not.
    @Test func aSealedEventTwiceIsComparedByItsContent() throws {
        let registered = #"{"specversion":"1.0","id":"r","source":"urn:t","type":"customer.registered","subject":"c-1","data":{"name":"Zo\u00eb","email":"zoe@example.com","locale":"en"}}"#
        let reordered = #"{ "data": {"locale":"en", "email":"zoe@example.com", "name":"Zoë"}, "subject":"c-1","type":"customer.registered","source":"urn:t","id":"r","specversion":"1.0" }"#
        let same = try read([registered, reordered].joined(separator: "\n"), block: 7)
        #expect(same.events == ["r", "r"] && same.problems.isEmpty, "\(same)")
        let withZero = registered.replacingOccurrences(of: #""locale":"en""#, with: #""locale":"en","x":0"#)
        for (first, other) in [
            (registered, registered.replacingOccurrences(of: "zoe@", with: "zoë@")),
            (withZero, withZero.replacingOccurrences(of: #""x":0"#, with: #""x":-0"#)),
            (registered, registered.replacingOccurrences(of: "Zo\\u00eb", with: "Zoe\\u0308")),
            (registered.replacingOccurrences(of: #""locale":"en""#, with: #""locale":"en","\u00e9":1"#),
             registered.replacingOccurrences(of: #""locale":"en""#, with: #""locale":"en","e\u0301":1"#)),
        ] {
            let found = try read([first, other].joined(separator: "\n"), block: 7)
            #expect(found.events == ["r"] && found.problems.first?.contains("also line 1") == true, "\(found)")
        }
    }
}
