import Hummingbird
import StableGateDomain

/// The AllScale Open API v1 routes, all behind ``SignatureAuthMiddleware``.
struct OpenAPIRoutes {
    let intents: CheckoutIntentService

    func register(on group: RouterGroup<GatewayRequestContext>) {
        // Test endpoints (seed 003).
        group.get("test/ping") { _, context in
            Envelope.success(.object([("pong", .string("ok"))]), requestId: context.requestId)
        }
        group.get("test/fail") { _, _ -> Response in
            throw APIError(.validation, "this endpoint always fails with a validation error, for testing error handling")
        }
        group.post("test/post") { _, context in
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

        // Checkout intents (seeds 000, 001, 002). The router ignores a trailing slash, so both
        // /v1/checkout_intents and /v1/checkout_intents/ land here (the signature still covers
        // the path exactly as sent).
        group.post("checkout_intents") { request, context in
            let caller = try context.requireCaller()
            let body = context.body.map { Array($0.readableBytesView) } ?? []
            let created = try await intents.create(
                storeId: caller.storeId, body: body, idempotencyKey: request.headers[.idempotencyKey], logger: context.logger)
            var response = Envelope.success(created.payload, requestId: context.requestId)
            if created.replayed { response.headers[.idempotentReplayed] = "true" }
            return response
        }
        group.get("checkout_intents/:id/status") { _, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            let status = try await intents.status(id: id, storeId: caller.storeId)
            return Envelope.success(.int(status.rawValue), requestId: context.requestId)
        }
        group.get("checkout_intents/:id") { _, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            let intent = try await intents.intent(id: id, storeId: caller.storeId)
            return Envelope.success(CheckoutIntentWire.fullPayload(intent, checkoutURL: intents.checkoutURL(intent)), requestId: context.requestId)
        }
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
