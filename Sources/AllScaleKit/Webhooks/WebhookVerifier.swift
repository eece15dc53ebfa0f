#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Remembers nonces so a captured webhook cannot be replayed. Share one store between your
/// instances (a database table or Redis `SET NX EX`) when you run several.
public protocol NonceStore: Sendable {
    /// Records `nonce` for `key`, keeping it at least until `expiresAt`; returns false when it
    /// was already recorded (a replay).
    func remember(nonce: String, key: String, expiresAt: Date) async -> Bool
}

/// A process-local ``NonceStore``; expired nonces are pruned as new ones arrive.
public actor InMemoryNonceStore: NonceStore {
    private var seen: [String: Date] = [:]

    public init() {}

    public func remember(nonce: String, key: String, expiresAt: Date) -> Bool {
        let now = Date()
        if seen.count > 10_000 { seen = seen.filter { $0.value > now } }
        let id = key + "\n" + nonce
        if let until = seen[id], until > now { return false }
        seen[id] = expiresAt
        return true
    }
}

/// A webhook that passed ``WebhookVerifier/verify(path:query:headers:body:)``, in one of the two
/// body formats a sender posts.
public enum VerifiedWebhook: Sendable {
    /// AllScale's checkout payment (docs/WIRE-CONTRACT.md §7.3): a flat object sent when a payment
    /// is confirmed. Check ``AllScaleCheckoutWebhook/isConfirmed`` and the money against your
    /// order, then dedupe on ``AllScaleCheckoutWebhook/allScaleTransactionId``.
    case payment(AllScaleCheckoutWebhook)
    /// StableGate's event envelope (`event_id`, `type`, `created_at`, `webhook_id`, `data`).
    case event(WebhookEvent)

    /// The body's `webhook_id` (for an envelope without one, nil).
    public var webhookId: String? {
        switch self {
        case .payment(let payment): payment.webhookId
        case .event(let event): event.webhookId
        }
    }
}

/// Checks a webhook as AllScale signs it (docs/WIRE-CONTRACT.md §7.2, §7.6) and decodes its body.
///
/// Pass the request exactly as it arrived: the raw body bytes, and the PATH and QUERY of the
/// webhook URL as on the wire (percent-encoding kept, QUERY without `?`). Behind a proxy that
/// rewrites the path, pass those of the URL you registered instead
/// (``WebhookSigner/pathAndQuery(ofURL:)`` cuts them from it). The checks, in order:
///
/// 1. the headers `X-API-Key`, `X-Webhook-Id`, `X-Webhook-Timestamp`, `X-Webhook-Nonce` and
///    `X-Webhook-Signature` are there (matched case-insensitively) and the key is yours;
/// 2. the signature (``WebhookSigner``, constant-time compare);
/// 3. the timestamp lies within ``tolerance`` of now (±300 s by default);
/// 4. the webhook id is a pinned one (when ``webhookIds`` is set) and the body's `webhook_id`
///    equals the header;
/// 5. the body decodes: an object with `event_id` and `type` as a StableGate ``WebhookEvent``,
///    anything else as an ``AllScaleCheckoutWebhook``;
/// 6. the nonce was not seen before (kept at least ``nonceRetention``, 10 minutes by default,
///    and until its timestamp leaves the window).
///
/// Use one verifier per process (it remembers nonces) or share a ``NonceStore``.
public struct WebhookVerifier: Sendable {
    /// Why a webhook was refused. Answer 401 and log it; never process the body.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// A required header is absent or empty (its name as AllScale spells it).
        case missingHeader(String)
        /// `X-API-Key` is not a key this verifier has a secret for.
        case unknownKey(String)
        /// `X-Webhook-Signature` does not match: a wrong secret, or an altered body, path, query,
        /// id, timestamp or nonce.
        case badSignature
        /// `X-Webhook-Timestamp` is not unix seconds within the tolerance.
        case staleTimestamp(String)
        /// `X-Webhook-Nonce` was already used (a replay).
        case replayedNonce
        /// The webhook id (header, or the body's `webhook_id`) is not a pinned one, or the body's
        /// `webhook_id` differs from `X-Webhook-Id`; the offending id.
        case wrongWebhookId(String)
        /// Signed, but the body is neither an AllScale checkout payment nor an event envelope.
        case malformedBody(String)

        public var description: String {
            switch self {
            case .missingHeader(let name): "missing header \(name)"
            case .unknownKey(let key): "signed with unknown API key \(key)"
            case .badSignature: "the signature does not match"
            case .staleTimestamp(let value): "timestamp \(value) is outside the accepted window"
            case .replayedNonce: "this nonce was already used (a replay)"
            case .wrongWebhookId(let id): "webhook id \(id) is not the expected one"
            case .malformedBody(let reason): "the body is not an AllScale webhook: \(reason)"
            }
        }
    }

    /// Secret by API key id: the store's keys (webhooks are signed with the store's key).
    let secrets: @Sendable (String) -> String?
    let nonces: any NonceStore
    /// The webhook ids accepted (the id the dashboard shows for your endpoint); nil accepts any
    /// id — the body's `webhook_id` must still equal `X-Webhook-Id`.
    public var webhookIds: Set<String>?
    /// Seconds a timestamp may differ from now, either way (docs/WIRE-CONTRACT.md §7.6: ±5 minutes).
    public var tolerance: TimeInterval = 300
    /// The least time a nonce is remembered (docs/WIRE-CONTRACT.md §7.6: about 10 minutes); it is
    /// also kept until its timestamp leaves the window.
    public var nonceRetention: TimeInterval = 600
    /// Where the verifier reads the time (inject a fixed clock in tests).
    public var now: @Sendable () -> Date = { Date() }

    /// A verifier for several keys. `webhookIds`: the ids to accept, nil for any.
    public init(secrets: @escaping @Sendable (String) -> String?, webhookIds: Set<String>? = nil, nonces: any NonceStore = InMemoryNonceStore()) {
        self.secrets = secrets
        self.webhookIds = webhookIds
        self.nonces = nonces
    }

    /// One key and secret, optionally pinned to your endpoint's webhook id.
    public init(apiKey: String, apiSecret: String, webhookId: String? = nil, nonces: any NonceStore = InMemoryNonceStore()) {
        self.init(secrets: { $0 == apiKey ? apiSecret : nil }, webhookIds: webhookId.map { [$0] }, nonces: nonces)
    }

    /// Verifies and decodes one delivery (see the type's documentation for the checks).
    /// `path` and `query` as on the wire (query without `?`); `headers` matched case-insensitively.
    /// Throws a ``Failure``.
    public func verify(path: String, query: String = "", headers: [(String, String)], body: [UInt8]) async throws(Failure) -> VerifiedWebhook {
        func header(_ name: String) throws(Failure) -> String {
            let lowered = name.lowercased()
            guard let value = headers.first(where: { $0.0.lowercased() == lowered })?.1, !value.isEmpty else { throw .missingHeader(name) }
            return value
        }
        let key = try header("X-API-Key"), webhookId = try header("X-Webhook-Id"), timestamp = try header("X-Webhook-Timestamp")
        let nonce = try header("X-Webhook-Nonce"), signature = try header("X-Webhook-Signature")
        guard let secret = secrets(key) else { throw .unknownKey(key) }

        let canonical = WebhookSigner.canonicalString(path: path, query: query, webhookId: webhookId, timestamp: timestamp, nonce: nonce, body: body)
        guard RequestSigner.constantTimeEquals(WebhookSigner.signature(canonical: canonical, secret: secret), signature) else { throw .badSignature }
        // Checked after the signature, so an attacker learns nothing about the window.
        let current = now().timeIntervalSince1970
        guard let seconds = Int64(timestamp), abs(current - TimeInterval(seconds)) <= tolerance else {
            throw .staleTimestamp(timestamp)
        }
        if let webhookIds, !webhookIds.contains(webhookId) { throw .wrongWebhookId(webhookId) }

        let delivery = try Self.decode(body)
        if let bodyId = delivery.webhookId, bodyId != webhookId { throw .wrongWebhookId(bodyId) }

        let expiresAt = max(TimeInterval(seconds) + tolerance, current + nonceRetention)
        guard await nonces.remember(nonce: nonce, key: key, expiresAt: Date(timeIntervalSince1970: expiresAt)) else { throw .replayedNonce }
        return delivery
    }

    /// An object with `event_id` and `type` is StableGate's envelope; anything else must be
    /// AllScale's checkout payment.
    static func decode(_ body: [UInt8]) throws(Failure) -> VerifiedWebhook {
        let data = Data(body), decoder = JSONDecoder()
        guard let probe = try? decoder.decode(JSONValue.self, from: data), case .object = probe else {
            throw .malformedBody("not a JSON object")
        }
        do {
            if probe["event_id"] != nil, probe["type"] != nil {
                return .event(try decoder.decode(WebhookEvent.self, from: data))
            }
            return .payment(try decoder.decode(AllScaleCheckoutWebhook.self, from: data))
        } catch {
            throw .malformedBody(Self.explain(error))
        }
    }

    /// "amount_coins: expected String" rather than a DecodingError dump.
    private static func explain(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String { context.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context): return "missing member \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .valueNotFound(_, let context): return "\(path(context)) is null"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
