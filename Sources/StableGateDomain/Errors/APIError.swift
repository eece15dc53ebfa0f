/// An error a client sees in the response envelope: a code, a message that says what to do,
/// and for validation errors the offending field.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Envelope code.
    public let code: APIErrorCode
    /// Human-readable explanation, safe to show to the caller (never contains secrets).
    public let message: String
    /// The request field at fault, for validation errors (`amount_cents`, `extra.note`, …).
    public let field: String?
    /// Seconds to wait before retrying, for rate-limit errors.
    public let retryAfterSeconds: Int?

    /// Creates an error.
    public init(_ code: APIErrorCode, _ message: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A validation error (10001) about one field.
    public static func invalid(_ field: String, _ reason: String) -> APIError {
        APIError(.validation, "\(field): \(reason)", field: field)
    }

    public var description: String { "\(code.rawValue) \(message)" }

    /// The envelope's `error` object.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("message", .string(message))]
        if let field { members.append(("field", .string(field))) }
        if let retryAfterSeconds { members.append(("retry_after", .int(retryAfterSeconds))) }
        return .object(members)
    }
}
