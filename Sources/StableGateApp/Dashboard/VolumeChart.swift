import Foundation
import StableGateDomain

/// A server-rendered SVG bar chart of daily confirmed volume (no script, no inline styles).
enum VolumeChart {
    static func svg(days: [(day: Int64, amount: DecimalAmount)], firstDay: Int64, dayCount: Int) -> String {
        let width = 720, height = 200, left = 40, bottom = 24
        let byDay = Dictionary(days.map { ($0.day, $0.amount) }, uniquingKeysWith: +)
        let amounts = (0..<dayCount).map { byDay[firstDay + Int64($0)] ?? .zero }
        // Bar heights need only display precision: whole coins are plenty for a picture.
        let values = amounts.map { Double($0.plainString()) ?? 0 }
        let maximum = max(values.max() ?? 0, 1)
        let barWidth = Double(width - left) / Double(dayCount)
        var bars = ""
        for (index, value) in values.enumerated() {
            let barHeight = value / maximum * Double(height - bottom - 10)
            let x = Double(left) + Double(index) * barWidth + 1
            let y = Double(height - bottom) - barHeight
            let date = Date(timeIntervalSince1970: Double(firstDay + Int64(index)) * 86_400).formatted(.iso8601.year().month().day())
            bars +=
                "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", y))\" width=\"\(String(format: "%.1f", max(1, barWidth - 2)))\" height=\"\(String(format: "%.1f", barHeight))\" fill=\"#3b4fd8\"><title>\(date): \(MoneyRules.wireString(amounts[index]))</title></rect>"
        }
        let maxLabel = MoneyRules.wireString(amounts.max() ?? .zero)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" role="img" aria-label="Confirmed volume per day, highest \(maxLabel)">\
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width)" y2="\(height - bottom)" stroke="#c5cad6"/>\
            <text x="4" y="14" font-size="11" fill="#5b6178">\(maxLabel)</text><text x="4" y="\(height - bottom)" font-size="11" fill="#5b6178">0</text>\(bars)</svg>
            """
    }
}
