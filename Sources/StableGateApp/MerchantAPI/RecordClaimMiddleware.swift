import Hummingbird
import StableGateDomain
import StableGateStore

/// Records the signed request's nonce and rate count before its handler runs, so a replayed or
/// over-limit request never reaches the handler. On every `/v1` route but the create, which
/// records them in the transaction that stores the intent (``SignatureAuthMiddleware``).
struct RecordClaimMiddleware: RouterMiddleware {
    typealias Context = MerchantAPIContext

    let ledger: RequestLedger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await SignatureAuthMiddleware.requireAccepted(context.caller.claim, ledger: ledger)
        return try await next(request, context)
    }
}

extension APIError {
    /// Throws the answer to a refused claim (docs/WIRE-CONTRACT.md §2.4): 20002 for a replayed
    /// nonce, 40001 with `Retry-After` over the key's rate.
    static func requireAccepted(_ verdict: ClaimVerdict, limitPerMinute: Int) throws(APIError) {
        switch verdict {
        case .accepted: return
        case .replayedNonce:
            throw APIError(.invalidSignature, "X-Nonce was already used with this API key; send a fresh nonce with every request")
        case .rateLimited(let seconds):
            throw APIError(.rateLimited, "rate limit of \(limitPerMinute) requests per minute exceeded for this API key", retryAfterSeconds: seconds)
        }
    }
}
