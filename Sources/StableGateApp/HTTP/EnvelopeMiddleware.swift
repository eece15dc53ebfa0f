import Hummingbird
import Logging
import StableGateDomain
import StableGateStore

/// The outermost middleware: gives every request its id (in the context, the logger metadata
/// and the `X-Request-Id` header) and turns every error into an envelope, so clients never see
/// a bare status or a stack trace — unknown routes and methods included.
public struct EnvelopeMiddleware: RouterMiddleware {
    public typealias Context = GatewayRequestContext
    private let identifiers: any IdentifierGenerator
    private let maximumBodyBytes: Int

    public init(identifiers: any IdentifierGenerator, maximumBodyBytes: Int) {
        self.identifiers = identifiers
        self.maximumBodyBytes = maximumBodyBytes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestId = identifiers.randomBytes(16).hexString
        context.requestId = requestId
        context.logger[metadataKey: "request_id"] = .string(requestId)
        context.logger[metadataKey: "hb.request.id"] = .string(requestId)
        do {
            var response = try await next(request, context)
            response.headers[.requestId] = requestId
            return response
        } catch {
            return Self.response(for: error, request: request, context: context, maximumBodyBytes: maximumBodyBytes)
        }
    }

    /// The envelope for an error thrown while handling `request` (logged): its own envelope
    /// for an ``APIError``, a mapped one for framework errors, a bare "internal server error"
    /// with the request id for anything else. Also used by ``SignatureAuthMiddleware``, which
    /// must sign error responses of stores that sign responses.
    static func response(for error: any Error, request: Request, context: Context, maximumBodyBytes: Int) -> Response {
        let requestId = context.requestId
        switch error {
        case let failure as APIErrorResponse:
            logRejection(failure.error, request: request, context: context)
            return Envelope.failure(failure.error, requestId: requestId, httpStatus: failure.httpStatus)
        case let error as APIError:
            logRejection(error, request: request, context: context)
            return Envelope.failure(error, requestId: requestId)
        case let error as any HTTPResponseError:
            let (apiError, status, allowed) = map(error, request: request, maximumBodyBytes: maximumBodyBytes)
            logRejection(apiError, request: request, context: context)
            var response = Envelope.failure(apiError, requestId: requestId, httpStatus: status)
            if let allowed { response.headers[.allow] = allowed.rawValue }  // RFC 9110: say which method works
            return response
        default:
            context.logger.error(
                "unhandled error", metadata: ["error": "\(DatabaseErrorText.describe(error))", "path": "\(CheckoutLinks.redacted(request.uri.path))"])
            return Envelope.failure(APIError(.internalError, "internal server error; quote request_id \(requestId) to support"), requestId: requestId)
        }
    }

    private static func logRejection(_ error: APIError, request: Request, context: Context) {
        let level: Logger.Level = error.code == .internalError ? .error : .info
        context.logger.log(
            level: level, "request rejected",
            metadata: [
                "code": "\(error.code.rawValue)", "reason": "\(error.message)", "method": "\(request.method)",
                "path": "\(CheckoutLinks.redacted(request.uri.path))",
            ])
    }

    /// Maps framework errors (no route, body too large, …) to envelope errors, with the method
    /// to name in `Allow` for a 405 on an Open API path.
    static func map(
        _ error: any HTTPResponseError, request: Request, maximumBodyBytes: Int
    ) -> (APIError, HTTPResponse.Status, allow: HTTPRequest.Method?) {
        switch error.status {
        case .notFound:
            // The router cannot tell "no such path" from "not with this method"; the API can.
            if let allowed = MerchantAPIRoutes.allowedMethod(path: request.uri.path), allowed != request.method {
                return (
                    APIError(.validation, "method \(request.method) is not allowed on \(request.uri.path); use \(allowed)"), .methodNotAllowed,
                    allowed
                )
            }
            return (APIError(.validation, "no endpoint \(request.method) \(request.uri.path)"), .notFound, nil)
        case .methodNotAllowed:
            return (
                APIError(.validation, "method \(request.method) is not allowed on \(request.uri.path)"), .methodNotAllowed,
                MerchantAPIRoutes.allowedMethod(path: request.uri.path)
            )
        case .contentTooLarge:
            return (APIError(.validation, "request body is too large; the limit is \(maximumBodyBytes) bytes"), .contentTooLarge, nil)
        default:
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return (APIError(error.status.code >= 500 ? .internalError : .validation, message), error.status, nil)
        }
    }
}
