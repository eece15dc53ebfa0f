import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The AllScale request signature (docs/WIRE-CONTRACT.md §2.2, §2.3): HMAC-SHA256 with the API secret over
/// `METHOD\nPATH\nQUERY\nTIMESTAMP\nNONCE\nhex(sha256(body))`, base64, prefixed `v1=`.
/// Webhooks (docs/WIRE-CONTRACT.md §7.2) and signed responses (§8) use the same HMAC with other
/// canonical strings: ``WebhookSigner`` and ``ResponseSigner``.
public enum RequestSigner {
    /// The canonical string; `path` and `query` exactly as on the wire (query without `?`), the
    /// method upper-cased as the server reads it.
    public static func canonicalString(method: String, path: String, query: String, timestamp: String, nonce: String, body: [UInt8]) -> String {
        [method.uppercased(), path, query, timestamp, nonce, sha256Hex(body)].joined(separator: "\n")
    }

    /// Lowercase hex SHA-256 of raw bytes, the body hash of every canonical string (requests,
    /// webhooks, responses). `sha256Hex([])` is the hash of the empty body.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `v1=` + base64(HMAC-SHA256(secret, canonical)).
    public static func signature(canonical: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(canonical.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "v1=" + Data(mac).base64EncodedString()
    }

    /// The four authentication headers for one request.
    public static func headers(
        method: String, path: String, query: String, body: [UInt8], apiKey: String, secret: String, timestamp: Date,
        nonce: String = UUID().uuidString.lowercased()
    ) -> [(name: String, value: String)] {
        let seconds = String(Int64(timestamp.timeIntervalSince1970))
        let canonical = canonicalString(method: method, path: path, query: query, timestamp: seconds, nonce: nonce, body: body)
        return [
            ("X-API-Key", apiKey), ("X-Timestamp", seconds), ("X-Nonce", nonce), ("X-Signature", signature(canonical: canonical, secret: secret)),
        ]
    }

    /// Compares two signatures in time that does not depend on where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
