import TidingsCore

/// Errors of the support console, each with a code and a message a person can act on.
struct ConsoleError: DomainError {
    enum Code: String, Sendable {
        /// A message whose content cannot be rendered now (its template or channel is gone).
        case cannotRender = "console.cannot_render"
        /// The console has no template catalog (a test server, or a daemon started without one).
        case noTemplates = "console.no_templates"
        /// What a page was asked for is not there (or no longer: erased, a workflow removed).
        case notFound = "console.not_found"
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
