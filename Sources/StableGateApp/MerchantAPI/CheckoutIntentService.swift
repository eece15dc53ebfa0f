import Foundation
import Logging
import StableGateDomain
import StableGateStore

/// Creates and reads checkout intents for authenticated stores.
public struct CheckoutIntentService: Sendable {
    let intents: CheckoutIntentRepository
    let merchants: MerchantRepository
    let rates: RateService
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    let policy: ValidationPolicy
    /// Issues the checkout URL's capability token of each new intent.
    let links: CheckoutLinks
    let idempotencyTTL: TimeInterval
    /// Stores by id, reused like API keys: a changed settlement wallet reaches new intents
    /// within the same TTL.
    let stores: ExpiringCache<String, Store>

    /// Longest accepted `Idempotency-Key`.
    static let maximumIdempotencyKeyLength = 255

    /// The hosted checkout page of an intent.
    public func checkoutURL(_ intent: CheckoutIntent) -> String {
        links.url(for: intent)
    }

    /// The result of a create: the payload, and whether it replays an earlier request.
    public struct Created: Sendable {
        public let payload: JSONValue
        public let replayed: Bool
        public let intentId: String
    }

    /// Validates, prices and stores a new intent. With an idempotency key, a repeat of the same
    /// body returns the first result and a different body is a 10001; nothing is written twice.
    /// With `claim`, the request's nonce and rate count are recorded in the transaction that
    /// stores the intent; a refused claim stores nothing and throws its error.
    public func create(storeId: String, body: [UInt8], idempotencyKey: String?, claim: PendingClaim? = nil, logger: Logger) async throws -> Created {
        let now = clock.now
        let requestHash = RequestSigning.bodyHash(body)
        if let idempotencyKey {
            guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= Self.maximumIdempotencyKeyLength,
                idempotencyKey.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else {
                throw APIError(
                    .validation, "Idempotency-Key must be 1–\(Self.maximumIdempotencyKeyLength) printable ASCII characters", field: "Idempotency-Key")
            }
            if let record = try await intents.idempotencyRecord(storeId: storeId, key: idempotencyKey, now: now) {
                return try await replay(record, requestHash: requestHash)
            }
        }

        let request = try CreateCheckoutIntentRequest.parse(body: body, policy: policy)
        var rate: ExchangeRate?
        if case .fiat(let currency) = request.pricingMode {
            rate = try await rates.currentRate(for: currency)
        }
        let store = try await stores.value(for: storeId, now: now) { try await merchants.store(id: storeId) }
        let id = identifiers.objectId(at: now)
        var (intent, transition) = try IntentFactory.makeIntent(
            request: request, rate: rate, id: id, storeId: storeId, settlementWallet: store?.walletAddress, now: now)
        let (token, link) = try links.issue()
        intent.checkoutLink = link
        let payload = CheckoutIntentWire.createPayload(intent, checkoutURL: links.url(token: token))
        // The stored copy leaves the URL out: the token is a credential and is kept only sealed
        // (a replay puts the URL back from the intent).
        let idempotencyClaim = idempotencyKey.map {
            IdempotencyClaim(
                key: $0, requestHash: requestHash, responsePayload: CheckoutIntentWire.createPayload(intent, checkoutURL: "").serialized,
                expiresAt: now.addingTimeInterval(idempotencyTTL))
        }
        switch try await intents.create(intent, transition: transition, idempotency: idempotencyClaim, claim: claim) {
        case .created:
            logger.info(
                "checkout intent created",
                metadata: [
                    "intent_id": "\(id)", "amount_coins": "\(intent.amountCoins)", "coin": "\(intent.settlementCoin.code)",
                ])
            return Created(payload: payload, replayed: false, intentId: id)
        case .alreadyRecorded(let record):
            return try await replay(record, requestHash: requestHash)
        case .notAdmitted(let verdict):
            try APIError.requireAccepted(verdict, limitPerMinute: claim?.claim.limitPerMinute ?? 0)
            throw APIError(.internalError, "checkout intent \(id) was refused with an accepted claim")
        }
    }

    private func replay(_ record: IdempotencyRecord, requestHash: String) async throws -> Created {
        guard record.requestHash == requestHash else {
            throw APIError(
                .validation, "Idempotency-Key was already used with a different request body; use a new key for a new request",
                field: "Idempotency-Key")
        }
        guard case .object(let members)? = try? JSONParser.parse(record.responsePayload), let intent = try await intents.find(id: record.intentId)
        else {
            throw APIError(.internalError, "stored idempotent response is unreadable")
        }
        let url = checkoutURL(intent)
        let payload = JSONValue.object(members.map { $0.0 == "checkout_url" ? ($0.0, .string(url)) : $0 })
        return Created(payload: payload, replayed: true, intentId: record.intentId)
    }

    /// The intent `id` if it belongs to `storeId`: 10001 for a malformed id, 50001 when it does
    /// not exist, 30001 when another store owns it.
    public func intent(id: String, storeId: String) async throws -> CheckoutIntent {
        try Self.requireWellFormed(id)
        guard let intent = try await intents.find(id: id) else { throw Self.notFound(id) }
        guard intent.storeId == storeId else { throw Self.forbidden }
        return intent
    }

    /// The status of intent `id`, with the same checks as ``intent(id:storeId:)``.
    public func status(id: String, storeId: String) async throws -> CheckoutStatus {
        try Self.requireWellFormed(id)
        guard let row = try await intents.status(id: id) else { throw Self.notFound(id) }
        guard row.storeId == storeId else { throw Self.forbidden }
        return row.status
    }

    static func requireWellFormed(_ id: String) throws {
        guard ObjectIdFormat.isValid(id) else {
            throw APIError.invalid("checkout_intent_id", "must be 24 lower-case hexadecimal characters")
        }
    }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, "checkout intent \(id) not found")
    }

    static let forbidden = APIError(.forbidden, "this checkout intent belongs to another store")
}
