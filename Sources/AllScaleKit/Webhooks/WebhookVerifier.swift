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

/// Checks a webhook from StableGate (or AllScale): the seed-003 signature with your API secret,
/// the timestamp window, and the nonce. Pass the request exactly as it arrived — the raw body
/// bytes, and the path and query as on the wire.
public struct WebhookVerifier: Sendable {
    /// Why a webhook was refused. Answer 401 and log it; never process the body.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingHeader(String)
        case unknownKey(String)
        case badSignature
        case staleTimestamp(String)
        case replayedNonce
        case malformedBody(String)

        public var description: String {
            switch self {
            case .missingHeader(let name): "missing header \(name)"
            case .unknownKey(let key): "signed with unknown API key \(key)"
            case .badSignature: "the signature does not match"
            case .staleTimestamp(let value): "timestamp \(value) is outside the accepted window"
            case .replayedNonce: "this nonce was already used (a replay)"
            case .malformedBody(let reason): "the body is not a webhook event: \(reason)"
            }
        }
    }

    /// Secret by API key id: the store's keys (webhooks are signed with the key you used last).
    let secrets: @Sendable (String) -> String?
    let nonces: any NonceStore
    /// Seconds a timestamp may differ from now, either way (the server's request window).
    public var tolerance: TimeInterval = 300
    var now: @Sendable () -> Date = { Date() }

    public init(secrets: @escaping @Sendable (String) -> String?, nonces: any NonceStore = InMemoryNonceStore()) {
        self.secrets = secrets
        self.nonces = nonces
    }

    /// One key and secret.
    public init(apiKey: String, apiSecret: String, nonces: any NonceStore = InMemoryNonceStore()) {
        self.init(secrets: { $0 == apiKey ? apiSecret : nil }, nonces: nonces)
    }

    /// Verifies and decodes. `headers` are matched case-insensitively.
    public func verify(method: String = "POST", path: String, query: String = "", headers: [(String, String)], body: [UInt8]) async throws -> WebhookEvent {
        func header(_ name: String) throws -> String {
            guard let value = headers.first(where: { $0.0.lowercased() == name.lowercased() })?.1, !value.isEmpty else { throw Failure.missingHeader(name) }
            return value
        }
        let key = try header("X-API-Key"), timestamp = try header("X-Timestamp"), nonce = try header("X-Nonce"), signature = try header("X-Signature")
        guard let secret = secrets(key) else { throw Failure.unknownKey(key) }
        let canonical = RequestSigner.canonicalString(method: method, path: path, query: query, timestamp: timestamp, nonce: nonce, body: body)
        guard RequestSigner.constantTimeEquals(RequestSigner.signature(canonical: canonical, secret: secret), signature) else { throw Failure.badSignature }
        // Checked after the signature, so an attacker learns nothing about the window.
        guard let seconds = TimeInterval(timestamp), abs(now().timeIntervalSince1970 - seconds) <= tolerance else { throw Failure.staleTimestamp(timestamp) }
        guard await nonces.remember(nonce: nonce, key: key, expiresAt: Date(timeIntervalSince1970: seconds + tolerance)) else { throw Failure.replayedNonce }
        do {
            return try JSONDecoder().decode(WebhookEvent.self, from: Data(body))
        } catch {
            throw Failure.malformedBody("\(error)")
        }
    }
}
