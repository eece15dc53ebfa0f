import Hummingbird
import StableGateStore

/// `GET /stores/{id}/logo`: the store's logo, public (the checkout page shows it).
struct StoreLogoRoute {
    let merchants: MerchantRepository

    @Sendable func logo(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let logo = try await merchants.logo(storeId: try context.parameters.require("id")) else { throw HTTPError(.notFound) }
        return SecurityHeaders.image.response(ByteBuffer(bytes: logo.data), contentType: logo.contentType)
    }
}
