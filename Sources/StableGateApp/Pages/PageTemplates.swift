import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import StableGateDomain

/// The server-rendered pages' templates (`Resources/templates`) and static assets
/// (`Resources/assets`), loaded once at start, plus the headers every page gets.
struct PageTemplates: Sendable {
    private let library: MustacheLibrary
    /// Name → bytes and content type.
    private let assets: [String: (bytes: [UInt8], type: String)]
    /// Changes whenever any asset changes, so browsers may cache assets forever.
    let assetsVersion: String

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    init() async throws {
        guard let templates = Bundle.module.url(forResource: "templates", withExtension: nil, subdirectory: "Resources"),
            let assetsFolder = Bundle.module.url(forResource: "assets", withExtension: nil, subdirectory: "Resources")
        else { throw ConfigurationError(["the page templates are missing from the build"]) }
        library = try await MustacheLibrary(directory: templates.path)
        var assets: [String: (bytes: [UInt8], type: String)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: assetsFolder.path).sorted() {
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : nil
            guard let type else { continue }
            assets[name] = (Array(try Data(contentsOf: assetsFolder.appendingPathComponent(name))), type)
        }
        self.assets = assets
        assetsVersion = String(RequestSigning.bodyHash(assets.keys.sorted().flatMap { assets[$0]!.bytes }).prefix(12))
    }

    /// Renders template `name` (e.g. `checkout`, `dashboard/orders`).
    func render(_ model: [String: Any], _ name: String) -> String {
        var model = model
        model["assetsVersion"] = assetsVersion
        return library.render(model, withTemplate: name) ?? ""
    }

    /// The bytes and content type of a static asset.
    func asset(_ name: String) -> (bytes: [UInt8], type: String)? { assets[name] }

    /// An HTML response with the security headers every page gets.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `303 See Other` to `location` (after a form post).
    static func seeOther(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// `date` in UTC with a fixed (POSIX) `format`, as the pages print times.
    static func utcTime(_ date: Date, format: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter.string(from: date)
    }

    /// Reads a url-encoded form body of at most `limit` bytes.
    static func form(_ request: Request, upTo limit: Int) async throws -> [String: String] {
        var request = request
        return parseForm(String(buffer: try await request.collectBody(upTo: limit)))
    }

    /// `application/x-www-form-urlencoded` (or a query string) → fields; the first value of a
    /// name wins.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// `GET /assets/{file}`: the stylesheets and scripts, cacheable forever (URLs carry the version).
    func register(on router: Router<GatewayRequestContext>) {
        router.get("assets/:file") { _, context in
            guard let asset = asset(try context.parameters.require("file")) else { throw HTTPError(.notFound) }
            var headers = HTTPFields()
            headers[.contentType] = asset.type
            headers[.cacheControl] = "public, max-age=31536000, immutable"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
    }
}
