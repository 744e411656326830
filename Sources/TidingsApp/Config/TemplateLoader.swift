import Foundation
import TidingsCore

/// Reads every `*.mustache` file under the templates directory into a `TemplateCatalog`.
public enum TemplateLoader {
    public static func load(directory: String, fallbackLocale: String) throws -> TemplateCatalog {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw ConfigError(.templates, "cannot read the templates directory \(directory)")
        }
        var files: [String: String] = [:]
        for case let url as URL in enumerator where url.pathExtension == "mustache" {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            do {
                files[relative] = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw ConfigError(.templates, "cannot read template \(url.path): \(error.localizedDescription)")
            }
        }
        guard !files.isEmpty else {
            throw ConfigError(.templates, "no templates found under \(directory) (expected <template>/<locale>/<part>.mustache)")
        }
        do {
            return try TemplateCatalog(files: files, fallbackLocale: fallbackLocale)
        } catch {
            throw ConfigError(.templates, "\(error)")
        }
    }
}
