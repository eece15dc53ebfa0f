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

    /// Renders template `name` (e.g. `checkout`, `dashboard-orders`) with a typed model (see
    /// ``LayeredModel``); every template may also name `assetsVersion`.
    func render(_ model: Any, _ name: String) -> String {
        library.render(LayeredModel(model, Assets(assetsVersion: assetsVersion)), withTemplate: name) ?? ""
    }

    /// What every template may name besides its model.
    private struct Assets {
        let assetsVersion: String
    }

    /// The bytes and content type of a static asset.
    func asset(_ name: String) -> (bytes: [UInt8], type: String)? { assets[name] }

    /// An HTML response with the security headers every page gets.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        SecurityHeaders.page.response(ByteBuffer(string: text), contentType: "text/html; charset=utf-8", status: status)
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

    /// A stylesheet or script, cacheable for ever (URLs carry the version).
    @Sendable func asset(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let asset = asset(try context.parameters.require("file")) else { throw HTTPError(.notFound) }
        return SecurityHeaders.asset.response(ByteBuffer(bytes: asset.bytes), contentType: asset.type)
    }
}
