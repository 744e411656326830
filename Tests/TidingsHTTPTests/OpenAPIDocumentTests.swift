import Foundation
import Testing
@testable import TidingsHTTP

@Suite("HTTP: the OpenAPI document and the status page")
struct OpenAPIDocumentTests {
    @Test func theServedDocumentIsTheOneInTheRepository() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(file == OpenAPIDocument.yaml + "\n", "openapi.yaml changed: run scripts/gen-openapi.sh")
        #expect(file.hasPrefix("openapi: 3.1.0"))
    }

    @Test func thePageEscapesWhatEventsSaid() {
        #expect(StatusPage.escape(#"<script>"x"&'y'</script>"#) == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;")
    }
}
