import HTTPTypes
import Hummingbird
import NIOCore
import StableGateDomain

/// Builds AllScale envelope responses: `{"code", "payload", "error", "request_id"}`, always all
/// four keys, with the HTTP status docs/WIRE-CONTRACT.md §3.2 assigns to the code.
public enum Envelope {
    /// A success envelope around `payload`.
    public static func success(_ payload: JSONValue, requestId: String) -> Response {
        response(
            status: .ok,
            json: .object([("code", .int(0)), ("payload", payload), ("error", .null), ("request_id", .string(requestId))]),
            requestId: requestId)
    }

    /// An error envelope.
    public static func failure(_ error: APIError, requestId: String, httpStatus: HTTPResponse.Status? = nil) -> Response {
        var response = response(
            status: httpStatus ?? HTTPResponse.Status(code: error.code.httpStatus),
            json: .object([
                ("code", .int(error.code.rawValue)), ("payload", .null), ("error", error.json), ("request_id", .string(requestId)),
            ]),
            requestId: requestId)
        if let retryAfter = error.retryAfterSeconds {
            response.headers[.retryAfter] = String(retryAfter)
        }
        return response
    }

    /// A JSON response with the request id header.
    public static func response(status: HTTPResponse.Status, json: JSONValue, requestId: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.requestId] = requestId
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.serializedBytes)))
    }
}

/// An error raised inside the gateway that must reach the client as a specific envelope.
public struct APIErrorResponse: Error, Sendable {
    public let error: APIError
    /// Overrides the code's usual HTTP status (404 for unknown routes, 413 for big bodies).
    public let httpStatus: HTTPResponse.Status?

    public init(_ error: APIError, httpStatus: HTTPResponse.Status? = nil) {
        self.error = error
        self.httpStatus = httpStatus
    }

    static func internalMisconfiguration(_ what: String) -> APIErrorResponse {
        APIErrorResponse(APIError(.internalError, "internal server error: \(what)"))
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    public static let requestId = Self("X-Request-Id")!
    /// `X-API-Key`.
    public static let apiKey = Self("X-API-Key")!
    /// `X-Timestamp`.
    public static let timestamp = Self("X-Timestamp")!
    /// `X-Nonce`.
    public static let nonce = Self("X-Nonce")!
    /// `X-Signature`.
    public static let signature = Self("X-Signature")!
    /// `Idempotency-Key`.
    public static let idempotencyKey = Self("Idempotency-Key")!
    /// `Idempotent-Replayed`, set on a replayed create.
    public static let idempotentReplayed = Self("Idempotent-Replayed")!
}
