import Foundation
import TidingsCore

/// Charts drawn on the server as SVG: no scripts, no fonts or files from elsewhere. Series
/// differ by line pattern, marker shape and fill pattern as well as colour, and are named in a
/// legend, so they read without colour; each chart has a title and a description for screen
/// readers, and the page puts the numbers in a table beside it.
enum SVGChart {
    struct Series {
        var name: String
        /// One value per label; nil where there is none.
        var values: [Double?]
        var style: Style
    }

    /// How a series looks: colour, line pattern and marker, or bar fill.
    enum Style: CaseIterable {
        case first, second, third

        var colour: String {
            switch self {
            case .first: "#2271b1"
            case .second: "#b26200"
            case .third: "#8a1f1f"
            }
        }

        var dashes: String {
            switch self {
            case .first: ""
            case .second: " stroke-dasharray=\"8 4\""
            case .third: " stroke-dasharray=\"2 3\""
            }
        }

        func marker(x: Double, y: Double) -> String {
            switch self {
            case .first: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"3.5\" fill=\"\(colour)\"/>"
            case .second: return "<rect x=\"\(f(x - 3.5))\" y=\"\(f(y - 3.5))\" width=\"7\" height=\"7\" fill=\"\(colour)\"/>"
            case .third:
                return "<path d=\"M\(f(x)) \(f(y - 4.5))L\(f(x + 4.5)) \(f(y + 3.5))L\(f(x - 4.5)) \(f(y + 3.5))Z\" fill=\"\(colour)\"/>"
            }
        }
    }

    static let width = 720.0, height = 260.0
    static let left = 64.0, right = 16.0, top = 16.0, bottom = 56.0

    /// Lines over labelled points (hours), the y axis from 0 to the largest value.
    static func lines(id: String, title: String, description: String, labels: [String], series: [Series],
                      format: (Double) -> String) -> String {
        let maximum = niceMaximum(series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0)
        var svg = open(id: id, title: title, description: description) + axes(maximum: maximum, format: format) + xLabels(labels)
        for one in series {
            // A line joins neighbouring values only: after a gap it starts again.
            var path = "", markers = ""
            var joined = false
            for (index, value) in one.values.enumerated() {
                guard let value else {
                    joined = false
                    continue
                }
                let (px, py) = (x(index, of: labels.count), y(value, maximum))
                path += "\(joined ? "L" : "M")\(f(px)) \(f(py))"
                markers += one.style.marker(x: px, y: py)
                joined = true
            }
            guard !path.isEmpty else { continue }
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(one.style.colour)\" stroke-width=\"2\"\(one.style.dashes)/>" + markers
        }
        return svg + legend(series, bars: false) + "</svg>"
    }

    /// Bars of shares (0...1) side by side per label.
    static func shares(id: String, title: String, description: String, labels: [String], series: [Series]) -> String {
        var svg = open(id: id, title: title, description: description)
        svg += "<defs><pattern id=\"\(id)-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        svg += "<rect width=\"6\" height=\"6\" fill=\"\(Style.second.colour)\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#fff\" stroke-width=\"2\"/></pattern></defs>"
        svg += axes(maximum: 1, format: { "\(Int(($0 * 100).rounded()))%" }) + xLabels(labels)
        let slot = (width - left - right) / Double(max(labels.count, 1))
        let barWidth = min(28, slot * 0.8 / Double(max(series.count, 1)))
        for (s, one) in series.enumerated() {
            for (index, value) in one.values.enumerated() {
                guard let value else { continue }
                let x0 = left + slot * Double(index) + slot / 2 - barWidth * Double(series.count) / 2 + barWidth * Double(s)
                let y0 = y(value, 1)
                svg += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(barWidth - 2))\" height=\"\(f(height - bottom - y0))\" "
                svg += "fill=\"\(one.style == .second ? "url(#\(id)-hatch)" : one.style.colour)\" stroke=\"#1d2327\" stroke-width=\"0.5\"/>"
            }
        }
        return svg + legend(series, bars: true, hatch: "\(id)-hatch") + "</svg>"
    }

    private static func open(id: String, title: String, description: String) -> String {
        "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" "
            + "aria-labelledby=\"\(id)-title \(id)-desc\" font-family=\"system-ui,sans-serif\" font-size=\"12\">"
            + "<title id=\"\(id)-title\">\(HTML.escape(title))</title><desc id=\"\(id)-desc\">\(HTML.escape(description))</desc>"
            + "<rect width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#fff\"/>"
    }

    private static func axes(maximum: Double, format: (Double) -> String) -> String {
        var svg = ""
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let yy = y(value, maximum)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(width - right))\" y2=\"\(f(yy))\" stroke=\"#dcdcde\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" text-anchor=\"end\" fill=\"#1d2327\">\(HTML.escape(format(value)))</text>"
        }
        return svg + "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"#1d2327\"/>"
    }

    private static func xLabels(_ labels: [String]) -> String {
        let every = max(1, Int((Double(labels.count) / 12).rounded(.up)))
        return labels.enumerated().filter { $0.offset % every == 0 }.map { index, label in
            "<text x=\"\(f(x(index, of: labels.count)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\" fill=\"#1d2327\">\(HTML.escape(label))</text>"
        }.joined()
    }

    private static func legend(_ series: [Series], bars: Bool, hatch: String = "") -> String {
        var svg = ""
        for (index, one) in series.enumerated() {
            let x0 = left + Double(index) * 170
            let y0 = height - 14
            if bars {
                svg += "<rect x=\"\(f(x0))\" y=\"\(f(y0 - 9))\" width=\"14\" height=\"10\" fill=\"\(one.style == .second ? "url(#\(hatch))" : one.style.colour)\" stroke=\"#1d2327\" stroke-width=\"0.5\"/>"
            } else {
                svg += "<line x1=\"\(f(x0))\" y1=\"\(f(y0 - 4))\" x2=\"\(f(x0 + 24))\" y2=\"\(f(y0 - 4))\" stroke=\"\(one.style.colour)\" stroke-width=\"2\"\(one.style.dashes)/>"
                svg += one.style.marker(x: x0 + 12, y: y0 - 4)
            }
            svg += "<text x=\"\(f(x0 + 30))\" y=\"\(f(y0))\" fill=\"#1d2327\">\(HTML.escape(one.name))</text>"
        }
        return svg
    }

    private static func x(_ index: Int, of count: Int) -> Double {
        let slot = (width - left - right) / Double(max(count, 1))
        return left + slot * (Double(index) + 0.5)
    }

    private static func y(_ value: Double, _ maximum: Double) -> Double {
        let plot = height - top - bottom
        return height - bottom - (maximum > 0 ? min(max(value / maximum, 0), 1) * plot : 0)
    }

    /// A round number at or above `value`: 1, 2 or 5 times a power of ten.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, (log10(value)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= value } ?? 10 * power
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
