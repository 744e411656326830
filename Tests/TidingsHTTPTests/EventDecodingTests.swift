import Foundation
import HTTPTypes
import Testing
@testable import TidingsHTTP

@Suite("HTTP: event decoding and tokens")
struct EventDecodingTests {
    let event = #"{"specversion":"1.0","id":"e-1","source":"urn:t","type":"order.delivered","subject":"o-1","data":{}}"#

    func headers(_ contentType: String, _ extra: [(String, String)] = []) -> HTTPFields {
        var fields: HTTPFields = [.contentType: contentType]
        for (name, value) in extra { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    @Test func takesTheFourModes() throws {
        #expect(try EventDecoding.decode(Array(event.utf8), headers: headers("application/cloudevents+json; charset=utf-8")).count == 1)
        #expect(try EventDecoding.decode(Array("[\(event),\(event)]".utf8), headers: headers("application/cloudevents-batch+json")).count == 2)
        #expect(try EventDecoding.decode(Array("\(event)\n\n\(event)\n".utf8), headers: headers("application/x-ndjson")).count == 2)
        let binary = try EventDecoding.decode(Array(#"{"at":"2026-11-23T10:00:00Z"}"#.utf8), headers: headers("application/json", [
            ("ce-specversion", "1.0"), ("ce-id", "b-1"), ("ce-source", "urn:t"), ("ce-type", "order.delivered"), ("ce-subject", "o-1"),
        ]))
        #expect(binary.first?.id == "b-1")
        #expect(binary.first?.subject == "o-1")
    }

    @Test func namesTheEventAndFieldAndRefusesOtherTypes() {
        let bad = #"{"specversion":"1.0","id":"e-2","source":"urn:t","type":"order.placed","subject":"o-2","data":{"customer_id":"c","total":"x","currency":"EUR","items":[]}}"#
        #expect {
            try EventDecoding.decode(Array("[\(event),\(bad)]".utf8), headers: headers("application/cloudevents-batch+json"))
        } throws: { error in
            guard let problem = error as? Problem else { return false }
            return problem.status == .badRequest && problem.issues.first?.event == 2 && problem.issues.first?.field == "data.total"
        }
        #expect { try EventDecoding.decode(Array(event.utf8), headers: headers("text/plain")) } throws: {
            ($0 as? Problem)?.status == .unsupportedMediaType
        }
    }

    @Test func tokensHaveScopesAndCompareInConstantTime() throws {
        let tokens = try APIToken.parse("shop ingest 0123456789abcdef0123; ops admin fedcba9876543210fedc")
        #expect(tokens.map(\.name) == ["shop", "ops"])
        #expect(TokenCheck.equal([1, 2, 3], [1, 2, 3]))
        #expect(!TokenCheck.equal([1, 2, 3], [1, 2, 4]))
        #expect { try APIToken.parse("shop everything 0123456789abcdef0123") } throws: { ($0 as? TokenSyntaxError)?.entry == 1 }
        #expect { try APIToken.parse("shop ingest short") } throws: { _ in true }
    }
}
