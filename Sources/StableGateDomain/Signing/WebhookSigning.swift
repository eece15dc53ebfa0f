/// How StableGate signs what it sends, as AllScale does (docs/WIRE-CONTRACT.md
/// §7.2 and §8), shared by the webhook sender, the response signer and the tests. Same HMAC,
/// base64 and `v1=` prefix as ``RequestSigning``; only the canonical strings differ.
public enum WebhookSigning {
    /// The first line of a webhook's canonical string.
    public static let scheme = "allscale:webhook:v1"

    /// The canonical string of a webhook delivery: eight lines joined by `\n`, no trailing
    /// newline. PATH and QUERY are those of the receiver's configured URL (percent-encoding
    /// kept, QUERY without `?`, "" when none; PATH "/" when the URL has none).
    public static func canonicalString(
        path: String, query: String, webhookId: String, timestamp: String, nonce: String, bodySHA256Hex: String
    ) -> String {
        [scheme, "POST", path.isEmpty ? "/" : path, query, webhookId, timestamp, nonce, bodySHA256Hex].joined(separator: "\n")
    }

    /// The headers of a delivery to `path`/`query` carrying `body`, signed with `secret`.
    public static func headers(
        path: String, query: String, body: [UInt8], apiKey: String, secret: String, webhookId: String, timestamp: String, nonce: String
    ) -> [(String, String)] {
        let canonical = canonicalString(
            path: path, query: query, webhookId: webhookId, timestamp: timestamp, nonce: nonce, bodySHA256Hex: RequestSigning.bodyHash(body))
        return [
            ("X-API-Key", apiKey), ("X-Webhook-Id", webhookId), ("X-Webhook-Timestamp", timestamp), ("X-Webhook-Nonce", nonce),
            ("X-Webhook-Signature", RequestSigning.signature(canonical: canonical, secret: secret)),
        ]
    }

    /// A new webhook id: `wh_` and 32 lower-case hex digits from 16 random bytes.
    public static func newWebhookId(_ identifiers: any IdentifierGenerator) -> String {
        "wh_" + identifiers.randomBytes(16).hexString
    }
}

/// Response signing (docs/WIRE-CONTRACT.md §8), for stores that turn it on.
public enum ResponseSigning {
    /// The canonical string of a response: the HTTP status code, the request PATH (no query),
    /// the request's nonce, hex SHA-256 of the request body (of "" for GET), the response
    /// timestamp, the response nonce and hex SHA-256 of the raw response body, joined by `\n`.
    public static func canonicalString(
        status: Int, requestPath: String, requestNonce: String, requestBodySHA256Hex: String, timestamp: String, nonce: String,
        responseBodySHA256Hex: String
    ) -> String {
        [String(status), requestPath, requestNonce, requestBodySHA256Hex, timestamp, nonce, responseBodySHA256Hex].joined(separator: "\n")
    }
}
