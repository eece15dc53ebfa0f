/// The `code` of the AllScale response envelope. Clients rely on it, not on the HTTP status.
public enum APIErrorCode: Int, Sendable, CaseIterable {
    case success = 0
    /// Validation error: the request is malformed or a field is wrong.
    case validation = 10001
    /// One of the four authentication headers is missing.
    case missingAuthentication = 20001
    /// Unknown key, bad signature, stale timestamp or replayed nonce.
    case invalidSignature = 20002
    /// IP not allowed, or the object belongs to another store.
    case forbidden = 30001
    /// The key's request rate is exceeded.
    case rateLimited = 40001
    /// The checkout intent does not exist.
    case notFound = 50001
    /// The checkout intent could not be created (amount at or below the floor, no usable FX rate).
    case createFailed = 50002
    /// Internal server error.
    case internalError = 90000
    /// Unknown error.
    case unknown = 99999

    /// The HTTP status that accompanies the code (docs/WIRE-CONTRACT.md §3.2).
    public var httpStatus: Int {
        switch self {
        case .success: 200
        case .validation: 400
        case .missingAuthentication, .invalidSignature: 401
        case .forbidden: 403
        case .rateLimited: 429
        case .notFound: 404
        case .createFailed: 422
        case .internalError, .unknown: 500
        }
    }
}
