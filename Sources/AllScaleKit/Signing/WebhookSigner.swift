#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The AllScale checkout-webhook signature (docs/WIRE-CONTRACT.md §7.2): HMAC-SHA256 with the API
/// secret over eight lines joined by `\n` (no trailing newline) —
/// `allscale:webhook:v1`, `POST`, PATH, QUERY, WEBHOOK_ID, TIMESTAMP, NONCE, hex(sha256(body)) —
/// base64, prefixed `v1=`, sent as `X-Webhook-Signature`. ``WebhookVerifier`` checks it.
public enum WebhookSigner {
    /// The first line of every webhook canonical string.
    public static let scheme = "allscale:webhook:v1"

    /// The canonical string. `path` and `query` are those of the webhook URL exactly as written
    /// (percent-encoding kept, query without `?`, `""` when there is none); an empty `path`
    /// is signed as `/`. The body hash is over the raw bytes as sent.
    public static func canonicalString(path: String, query: String, webhookId: String, timestamp: String, nonce: String, body: [UInt8]) -> String {
        [scheme, "POST", path.isEmpty ? "/" : path, query, webhookId, timestamp, nonce, RequestSigner.sha256Hex(body)].joined(separator: "\n")
    }

    /// `v1=` + base64(HMAC-SHA256(secret, canonical)) — the same MAC as requests.
    public static func signature(canonical: String, secret: String) -> String {
        RequestSigner.signature(canonical: canonical, secret: secret)
    }

    /// The PATH and QUERY a webhook URL is signed with, cut from the URL text without decoding
    /// or normalising anything: `https://shop.example/hooks/allscale?store=7&v=2` gives
    /// `("/hooks/allscale", "store=7&v=2")`, `https://shop.example` gives `("/", "")`. A fragment
    /// is dropped. A bare request target (`/hooks?x=1`) works too.
    public static func pathAndQuery(ofURL url: String) -> (path: String, query: String) {
        var target = Substring(url)
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        if let scheme = target.firstRange(of: "://") {
            let authority = target[scheme.upperBound...]
            target = authority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { authority[$0...] } ?? ""
        }
        guard let mark = target.firstIndex(of: "?") else { return (target.isEmpty ? "/" : String(target), "") }
        let path = target[..<mark]
        return (path.isEmpty ? "/" : String(path), String(target[target.index(after: mark)...]))
    }

    /// The five webhook headers for one delivery, as a sender (StableGate, AllScale) sets them:
    /// `X-API-Key`, `X-Webhook-Id`, `X-Webhook-Timestamp` (unix seconds), `X-Webhook-Nonce` and
    /// `X-Webhook-Signature`. Useful to test a receiver.
    public static func headers(
        path: String, query: String, webhookId: String, body: [UInt8], apiKey: String, secret: String, timestamp: Date,
        nonce: String = UUID().uuidString.lowercased()
    ) -> [(name: String, value: String)] {
        let seconds = String(Int64(timestamp.timeIntervalSince1970))
        let canonical = canonicalString(path: path, query: query, webhookId: webhookId, timestamp: seconds, nonce: nonce, body: body)
        return [
            ("X-API-Key", apiKey), ("X-Webhook-Id", webhookId), ("X-Webhook-Timestamp", seconds), ("X-Webhook-Nonce", nonce),
            ("X-Webhook-Signature", signature(canonical: canonical, secret: secret)),
        ]
    }
}
