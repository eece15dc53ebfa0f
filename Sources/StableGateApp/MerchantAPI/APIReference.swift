import Foundation  // Bundle: the document is a bundled resource
import HTTPTypes
import Hummingbird
import StableGateDomain

/// The published contract: `Resources/openapi.json` (OpenAPI 3.1, the merchant API and the
/// webhook payloads) served as is at `/openapi.json`, and rendered once at start-up into a
/// self-contained HTML reference at `/docs/api` (inline style, no script, no external assets).
struct APIReference {
    let document: [UInt8]
    let page: String

    /// Loads and renders the bundled document.
    static func load() throws -> APIReference {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources") else {
            throw RateDocumentError("bundled openapi.json is missing from the build")
        }
        let bytes = Array(try Data(contentsOf: url))
        return APIReference(document: bytes, page: APIReferencePage.render(try JSONParser.parse(bytes)))
    }

    /// The OpenAPI document, for generators and viewers.
    @Sendable func openAPIDocument(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "public, max-age=300"
        headers[HTTPField.Name("Access-Control-Allow-Origin")!] = "*"  // so generators and viewers elsewhere can fetch it
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    /// The document as one HTML page.
    @Sendable func referencePage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        SecurityHeaders.referencePage.response(ByteBuffer(string: page), contentType: "text/html; charset=utf-8")
    }
}

/// Renders an OpenAPI document as one HTML page: operations with their parameters, bodies and
/// responses, then every schema with its properties. Pure: document in, HTML out.
enum APIReferencePage {
    static func render(_ document: JSONValue) -> String {
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(document["info"]?["title"]?.stringValue ?? "API reference"))</title>
            <style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
            code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow:auto}
            table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .4rem;text-align:left;vertical-align:top}
            .method{font-weight:700;text-transform:uppercase;margin-right:.5rem}h2{margin-top:2.5rem;border-bottom:2px solid #222}h3{margin-top:1.8rem}.muted{color:#666}</style>
            </head><body><h1>\(escape(document["info"]?["title"]?.stringValue ?? "API reference"))</h1>
            <p>\(escape(document["info"]?["description"]?.stringValue ?? ""))</p>
            <p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI \(escape(document["openapi"]?.stringValue ?? "")))</p>
            """
        for (name, scheme) in members(document["components"]?["securitySchemes"]) {
            html += "<h2>Authentication (\(escape(name)))</h2><p>\(escape(scheme["description"]?.stringValue ?? ""))</p>"
        }
        html += "<h2>Operations</h2>"
        for (path, item) in members(document["paths"]) { html += operations(path: path, item: item) }
        if case .object(let hooks)? = document["webhooks"], !hooks.isEmpty {
            html += "<h2>Webhooks</h2>"
            for (name, item) in hooks { html += operations(path: "webhook: " + name, item: item) }
        }
        html += "<h2>Schemas</h2>"
        for (name, schema) in members(document["components"]?["schemas"]) {
            html += "<h3 id=\"schema-\(escape(name))\">\(escape(name))</h3>"
            if let description = schema["description"]?.stringValue { html += "<p>\(escape(description))</p>" }
            if case .array(let values)? = schema["enum"] {
                html += "<p>Values: <code>\(escape(values.map(\.serialized).joined(separator: ", ")))</code></p>"
            }
            let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
            let properties = members(schema["properties"])
            if !properties.isEmpty {
                html += "<table><tr><th>field</th><th>type</th><th>description</th></tr>"
                for (field, property) in properties {
                    html += "<tr><td><code>\(escape(field))</code>\(required.contains(field) ? " <span class=\"muted\">required</span>" : "")</td>"
                    html += "<td>\(typeText(property))</td><td>\(escape(property["description"]?.stringValue ?? ""))</td></tr>"
                }
                html += "</table>"
            }
        }
        return html + "</body></html>\n"
    }

    private static func operations(path: String, item: JSONValue) -> String {
        var html = ""
        for (method, operation) in members(item) {
            html += "<h3><span class=\"method\">\(escape(method))</span><code>\(escape(path))</code></h3>"
            if let summary = operation["summary"]?.stringValue { html += "<p>\(escape(summary))</p>" }
            if let description = operation["description"]?.stringValue { html += "<p>\(escape(description))</p>" }
            let parameters = operation["parameters"]?.arrayValue ?? []
            if !parameters.isEmpty {
                html += "<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>"
                for parameter in parameters {
                    html +=
                        "<tr><td><code>\(escape(parameter["name"]?.stringValue ?? ""))</code>\(parameter["required"] == .bool(true) ? " <span class=\"muted\">required</span>" : "")</td>"
                    html +=
                        "<td>\(escape(parameter["in"]?.stringValue ?? ""))</td><td>\(typeText(parameter["schema"] ?? .null))</td><td>\(escape(parameter["description"]?.stringValue ?? ""))</td></tr>"
                }
                html += "</table>"
            }
            if let body = operation["requestBody"]?["content"]?["application/json"]?["schema"] { html += "<p>Body: \(typeText(body))</p>" }
            let responses = members(operation["responses"])
            if !responses.isEmpty {
                html += "<table><tr><th>HTTP</th><th>meaning</th><th>body</th></tr>"
                for (status, response) in responses {
                    let schema = response["content"]?["application/json"]?["schema"]
                    html +=
                        "<tr><td>\(escape(status))</td><td>\(escape(response["description"]?.stringValue ?? ""))</td><td>\(schema.map(typeText) ?? "")</td></tr>"
                }
                html += "</table>"
            }
        }
        return html
    }

    /// A short type: a link for a reference, the payload's type for an envelope, else its JSON type.
    private static func typeText(_ schema: JSONValue) -> String {
        if let reference = schema["$ref"]?.stringValue {
            let name = String(reference.split(separator: "/").last ?? "")
            return "<a href=\"#schema-\(escape(name))\">\(escape(name))</a>"
        }
        if let payload = schema["properties"]?["payload"] { return "envelope of " + typeText(payload) }
        if case .array(let options)? = schema["oneOf"] { return options.map(typeText).joined(separator: " or ") }
        if let items = schema["items"] { return "array of " + typeText(items) }
        if case .array(let types)? = schema["type"] { return escape(types.compactMap(\.stringValue).joined(separator: " | ")) }
        if let constant = schema["const"] { return "<code>\(escape(constant.serialized))</code>" }
        return escape(schema["type"]?.stringValue ?? "any")
    }

    private static func members(_ value: JSONValue?) -> [(String, JSONValue)] {
        if case .object(let members)? = value { return members }
        return []
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension JSONValue {
    fileprivate var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    fileprivate var arrayValue: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
}
