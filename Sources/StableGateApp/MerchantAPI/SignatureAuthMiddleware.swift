import Foundation
import Hummingbird
import Logging
import NIOCore
import StableGateDomain
import StableGateStore

/// Authenticates `/v1` requests with the AllScale signing scheme (docs/WIRE-CONTRACT.md §2, §2.4).
///
/// In order: all four headers present (else 20001); timestamp within the store's replay window
/// (±600 s unless the store narrowed it), known active key, valid signature over the raw body
/// (else 20002, each with its own message); the key's IP
/// allowlist (30001); then the nonce must be new (20002) and the key under its per-minute
/// rate (40001 with `Retry-After`). The signature is checked before anything that would
/// consume the key's nonce space or rate budget, so an unauthenticated caller cannot.
///
/// The nonce and rate count (the request's ``PendingClaim``) are recorded before the handler
/// by ``RecordClaimMiddleware`` on every route but the create, which records them in the
/// transaction that stores the intent: one commit per create instead of two. Either way a
/// refused claim's error is the answer, whatever the handler did or threw.
///
/// When the key's store signs responses, every answer from there on — success or error — is
/// signed (``ResponseSigner``); answers before the signature is verified cannot be.
struct SignatureAuthMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let keys: APIKeyCache
    let ledger: RequestLedger
    let clock: any WallClock
    let maximumBodyBytes: Int
    let signer: ResponseSigner

    /// Longest accepted nonce and key id.
    static let maximumNonceLength = 128
    static let maximumKeyLength = 128

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let apiKey = request.headers[.apiKey]
        let timestampText = request.headers[.timestamp]
        let nonce = request.headers[.nonce]
        let signature = request.headers[.signature]
        let missing = [("X-API-Key", apiKey), ("X-Timestamp", timestampText), ("X-Nonce", nonce), ("X-Signature", signature)]
            .filter { $0.1?.isEmpty ?? true }.map(\.0)
        guard missing.isEmpty, let apiKey, let timestampText, let nonce, let signature else {
            throw APIError(.missingAuthentication, "missing authentication header\(missing.count > 1 ? "s" : ""): \(missing.joined(separator: ", "))")
        }

        let now = clock.now
        guard timestampText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let timestamp = Int64(timestampText) else {
            throw APIError(.invalidSignature, "X-Timestamp must be Unix time in seconds, got \(timestampText.prefix(32))")
        }
        let serverTime = Int64(now.timeIntervalSince1970)
        // The widest window any store may have, checked before any lookup.
        let skew = abs(serverTime - timestamp)
        guard skew <= Int64(RequestSigning.replayWindowRange.upperBound) else {
            throw Self.outsideWindow(timestamp, serverTime, RequestSigning.replayWindowRange.upperBound)
        }
        guard nonce.utf8.count <= Self.maximumNonceLength, nonce.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError(.invalidSignature, "X-Nonce must be 1–\(Self.maximumNonceLength) printable ASCII characters")
        }
        guard apiKey.utf8.count <= Self.maximumKeyLength, let key = try await keys.key(id: apiKey, now: now) else {
            throw APIError(.invalidSignature, "unknown API key")
        }
        guard key.record.isActive else {
            throw APIError(.invalidSignature, "API key has been revoked")
        }
        guard skew <= Int64(key.replayWindow) else { throw Self.outsideWindow(timestamp, serverTime, key.replayWindow) }

        let body = try await request.collectBody(upTo: maximumBodyBytes)
        context.body = body
        let bodyHash = RequestSigning.bodyHash(body.readableBytesView)
        let canonical = RequestSigning.canonicalString(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            timestamp: timestampText, nonce: nonce, bodySHA256Hex: bodyHash)
        guard RequestSigning.isValid(signatureHeader: signature, canonical: canonical, secret: key.secret) else {
            throw APIError(
                .invalidSignature,
                "signature does not match: sign METHOD\\nPATH\\nQUERY\\nTIMESTAMP\\nNONCE\\nhex(sha256(body)) with HMAC-SHA256 and send v1=base64")
        }

        guard key.signsResponses else {
            return try await admit(request, context: context, key: key, nonce: nonce, timestamp: timestamp, now: now, next: next)
        }
        let response: Response
        do {
            response = try await admit(request, context: context, key: key, nonce: nonce, timestamp: timestamp, now: now, next: next)
        } catch {
            response = EnvelopeMiddleware.response(for: error, request: request, context: context, maximumBodyBytes: maximumBodyBytes)
        }
        return try await signer.sign(
            response, for: .init(path: request.uri.path, nonce: nonce, bodySHA256Hex: bodyHash, requestId: context.requestId), secret: key.secret)
    }

    /// After the signature: the key's IP allowlist, then the route, then the nonce and the rate
    /// limit unless the route recorded them.
    private func admit(
        _ request: Request, context: Context, key: ResolvedAPIKey, nonce: String, timestamp: Int64, now: Date,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if !key.record.allowedRanges.isEmpty {
            let address = context.clientAddress ?? ""
            guard key.record.allowedRanges.contains(where: { $0.contains(address) }) else {
                throw APIError(.forbidden, "requests from \(address.isEmpty ? "this address" : address) are not allowed for this API key")
            }
        }

        let claim = PendingClaim(
            RequestClaim(
                apiKeyId: key.record.id, nonce: nonce,
                // Remembered for as long as the timestamp could still be accepted.
                nonceExpiresAt: Date(timeIntervalSince1970: TimeInterval(timestamp + Int64(key.replayWindow) + 1)),
                limitPerMinute: key.record.rateLimitPerMinute, now: now))
        context.caller = AuthenticatedCaller(storeId: key.record.storeId, apiKeyId: key.record.id, claim: claim)
        context.logger[metadataKey: "store_id"] = .string(key.record.storeId)
        context.logger[metadataKey: "api_key"] = .string(key.record.id)
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The claim's verdict comes first: a replayed or over-limit request gets that
            // answer, whatever its route made of it.
            try await Self.requireAccepted(claim, ledger: ledger)
            throw error
        }
        // Recorded here unless the route recorded it (RecordClaimMiddleware, a create).
        try await Self.requireAccepted(claim, ledger: ledger)
        return response
    }

    /// Records the claim unless that happened already, and throws unless it was accepted.
    static func requireAccepted(_ claim: PendingClaim, ledger: RequestLedger) async throws {
        try APIError.requireAccepted(try await ledger.settle(claim), limitPerMinute: claim.claim.limitPerMinute)
    }

    static func outsideWindow(_ timestamp: Int64, _ serverTime: Int64, _ window: Int) -> APIError {
        APIError(
            .invalidSignature,
            "X-Timestamp \(timestamp) is outside the replay window of ±\(window) s around server time \(serverTime); check your clock")
    }
}
