import Foundation
import Hummingbird

/// A submitted HTML form: the fields of an `application/x-www-form-urlencoded` body, or of a
/// `multipart/form-data` one with its file parts. Every page form is decoded here, once, by
/// the CSRF middleware of its route group (``SessionCSRFMiddleware``, ``DoubleSubmitCSRFMiddleware``).
public struct FormFields: Sendable {
    private var fields: [String: String]
    /// The parts of a multipart form (files and fields), by name: the first of a name wins.
    private(set) var files: [String: [UInt8]]
    /// Whether the body was a form at all (a multipart body that could not be parsed is not).
    private(set) var isReadable: Bool

    /// No fields (a GET, or a route without a form).
    public init() {
        fields = [:]
        files = [:]
        isReadable = true
    }

    init(fields: [String: String], files: [String: [UInt8]] = [:], isReadable: Bool = true) {
        self.fields = fields
        self.files = files
        self.isReadable = isReadable
    }

    /// The first value of the field `name`, as sent.
    public subscript(_ name: String) -> String? { fields[name] }

    /// The field's value with surrounding spaces removed; empty when absent.
    func trimmed(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespaces) }

    /// Whether a checkbox named `name` is ticked.
    func isChecked(_ name: String) -> Bool { fields[name] == "on" }

    /// The fields as a dictionary (to echo a form back into its page).
    var all: [String: String] { fields }

    /// Reads and decodes the body of `request`: url-encoded up to `limits.urlEncoded` bytes,
    /// multipart up to `limits.multipart` (larger bodies answer 413).
    static func read(_ request: inout Request, limits: Limits) async throws -> FormFields {
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let body = Array(try await request.collectBody(upTo: limits.multipart).readableBytesView)
            guard let multipart = MultipartForm(body: body, contentType: contentType) else { return FormFields(fields: [:], isReadable: false) }
            var fields: [String: String] = [:]
            var files: [String: [UInt8]] = [:]
            for part in multipart.parts {
                if files[part.name] == nil { files[part.name] = part.body }
                if part.filename == nil, fields[part.name] == nil { fields[part.name] = String(decoding: part.body, as: UTF8.self) }
            }
            return FormFields(fields: fields, files: files)
        }
        return FormFields(fields: parse(String(buffer: try await request.collectBody(upTo: limits.urlEncoded))))
    }

    /// How large a form body may be.
    struct Limits: Sendable {
        let urlEncoded: Int
        var multipart: Int = 0
    }

    /// `application/x-www-form-urlencoded` (or a query string) → fields; the first value of a
    /// name wins.
    static func parse(_ text: String) -> [String: String] {
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
}
