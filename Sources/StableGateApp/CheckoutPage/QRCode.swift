import CQRencode
import Foundation

/// QR codes from Debian's libqrencode, drawn as SVG on the server so the wallet-scan method
/// needs no JavaScript and no image request.
public struct QRCode: Sendable, Equatable {
    /// Modules per side (without the quiet zone).
    public let size: Int
    /// Row-major dark modules.
    public let modules: [Bool]

    /// Encodes `text` in byte mode with error correction level M (about 15 % recoverable),
    /// the smallest version that fits. Nil when the text is too long for any version.
    public init?(_ text: String) {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        size = width
        // Bit 0 of each byte is "dark"; the other bits describe what kind of module it is.
        modules = (0..<(width * width)).map { code.pointee.data[$0] & 1 == 1 }
    }

    /// Whether the module at (x, y) is dark.
    public func isDark(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// An SVG drawing: one path of unit squares, a 4-module quiet zone, no inline styles (so it
    /// passes a CSP without `'unsafe-inline'`), crisp at any size.
    public func svg(label: String) -> String {
        let quiet = 4
        let total = size + 2 * quiet
        var path = ""
        path.reserveCapacity(size * size * 4)
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < size, isDark(x: x + run, y: y) { run += 1 }
                path += "M\(x + quiet) \(y + quiet)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: "\"", with: "&quot;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(total) \(total)" role="img" aria-label="\(escaped)" shape-rendering="crispEdges" class="qr">\
            <rect width="\(total)" height="\(total)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}
