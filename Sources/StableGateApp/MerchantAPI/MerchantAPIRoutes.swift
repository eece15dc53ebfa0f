import Hummingbird
import StableGateDomain

/// The merchant API: the AllScale Open API v1 routes (docs/WIRE-CONTRACT.md), all behind
/// ``SignatureAuthMiddleware``, so every handler has its authenticated caller.
struct MerchantAPIRoutes {
    let intents: CheckoutIntentService

    @Sendable func ping(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        Envelope.success(.object([("pong", .string("ok"))]), requestId: context.requestId)
    }

    @Sendable func fail(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        throw APIError(.validation, "this endpoint always fails with a validation error, for testing error handling")
    }

    /// Echoes the JSON body back.
    @Sendable func echo(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        let bytes = context.body.map { Array($0.readableBytesView) } ?? []
        let echoed: JSONValue
        if bytes.isEmpty {
            echoed = .null
        } else {
            do {
                echoed = try JSONParser.parse(bytes)
            } catch {
                throw APIError(.validation, "request body is not valid JSON: \(error)")
            }
        }
        return Envelope.success(.object([("your_request_body", echoed)]), requestId: context.requestId)
    }

    @Sendable func createIntent(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        let body = context.body.map { Array($0.readableBytesView) } ?? []
        let created = try await intents.create(
            storeId: context.caller.storeId, body: body, idempotencyKey: request.headers[.idempotencyKey], claim: context.caller.claim,
            logger: context.logger)
        var response = Envelope.success(created.payload, requestId: context.requestId)
        if created.replayed { response.headers[.idempotentReplayed] = "true" }
        return response
    }

    @Sendable func status(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        let status = try await intents.status(id: try context.parameters.require("id"), storeId: context.caller.storeId)
        return Envelope.success(.int(status.rawValue), requestId: context.requestId)
    }

    @Sendable func intent(_ request: Request, context: MerchantAPIContext) async throws -> Response {
        let intent = try await intents.intent(id: try context.parameters.require("id"), storeId: context.caller.storeId)
        return Envelope.success(CheckoutIntentWire.fullPayload(intent, checkoutURL: intents.checkoutURL(intent)), requestId: context.requestId)
    }

    /// The one method an Open API path takes (trailing slash ignored), or nil for other paths:
    /// lets the envelope answer a wrong method with 405 and `Allow` instead of 404.
    static func allowedMethod(path: String) -> HTTPRequest.Method? {
        let parts = path.split(separator: "/").map(String.init)
        switch parts.count {
        case 2 where parts == ["v1", "checkout_intents"]: return .post
        case 3 where parts[0] == "v1" && parts[1] == "test":
            return ["ping": .get, "fail": .get, "post": .post][parts[2]]
        case 3 where parts[0] == "v1" && parts[1] == "checkout_intents": return .get
        case 4 where parts[0] == "v1" && parts[1] == "checkout_intents" && parts[3] == "status": return .get
        default: return nil
        }
    }
}
