#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signed API responses (docs/WIRE-CONTRACT.md §8; a store turns them on with `signed_response`).
/// The server signs every answer with the API secret over seven lines joined by `\n`: the HTTP
/// status code, the request PATH, the request nonce, hex(sha256(request body)) (of `""` for a
/// GET), the response timestamp, the response nonce, hex(sha256(raw response body)); HMAC-SHA256,
/// base64, `v1=`. Headers: `X-Response-Timestamp`, `X-Response-Nonce`, `X-Response-Signature`,
/// `X-Request-Nonce` (the request's `X-Nonce`) and `X-Request-Id`.
///
/// ``AllScaleClient`` checks it on every response when `verifyResponseSignatures` is on.
public enum ResponseSigner {
    /// The canonical string. `requestPath` is the path the request was signed with (no query);
    /// the bodies are the raw bytes as sent and as received.
    public static func canonicalString(
        status: Int, requestPath: String, requestNonce: String, requestBody: [UInt8], timestamp: String, nonce: String, body: [UInt8]
    ) -> String {
        [String(status), requestPath, requestNonce, RequestSigner.sha256Hex(requestBody), timestamp, nonce, RequestSigner.sha256Hex(body)]
            .joined(separator: "\n")
    }

    /// `v1=` + base64(HMAC-SHA256(secret, canonical)) — the same MAC as requests.
    public static func signature(canonical: String, secret: String) -> String {
        RequestSigner.signature(canonical: canonical, secret: secret)
    }

    /// The four signature headers a server adds to one response (`X-Response-Timestamp`,
    /// `X-Response-Nonce`, `X-Response-Signature`, `X-Request-Nonce`). Useful to test a client.
    public static func headers(
        status: Int, requestPath: String, requestNonce: String, requestBody: [UInt8], body: [UInt8], secret: String, timestamp: Date,
        nonce: String = UUID().uuidString.lowercased()
    ) -> [(name: String, value: String)] {
        let seconds = String(Int64(timestamp.timeIntervalSince1970))
        let canonical = canonicalString(
            status: status, requestPath: requestPath, requestNonce: requestNonce, requestBody: requestBody, timestamp: seconds, nonce: nonce,
            body: body)
        return [
            ("X-Response-Timestamp", seconds), ("X-Response-Nonce", nonce), ("X-Response-Signature", signature(canonical: canonical, secret: secret)),
            ("X-Request-Nonce", requestNonce),
        ]
    }

    /// Checks one response against the request that was sent: the four headers are present,
    /// `X-Request-Nonce` is the nonce sent, and `X-Response-Signature` matches (constant-time
    /// compare) over the status, `requestPath`, `requestNonce`, sha256 of `requestBody`, the
    /// response timestamp and nonce, and sha256 of the raw response body.
    ///
    /// Throws ``AllScaleError/unsignedResponse(httpStatus:reason:)`` when a header is missing and
    /// ``AllScaleError/badResponseSignature(httpStatus:reason:)`` when the nonce or the signature
    /// does not match. The response timestamp is signed but not compared with the local clock:
    /// binding the answer to this request's fresh nonce is what makes a replayed answer fail.
    public static func verify(
        _ response: TransportResponse, requestPath: String, requestNonce: String, requestBody: [UInt8], secret: String
    ) throws(AllScaleError) {
        func header(_ name: String) throws(AllScaleError) -> String {
            guard let value = response.header(name), !value.isEmpty else {
                let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
                throw .unsignedResponse(httpStatus: response.status, reason: "no \(name) header (unverified body: \(excerpt))")
            }
            return value
        }
        let signature = try header("X-Response-Signature"), timestamp = try header("X-Response-Timestamp")
        let nonce = try header("X-Response-Nonce"), echoed = try header("X-Request-Nonce")
        guard RequestSigner.constantTimeEquals(echoed, requestNonce) else {
            throw .badResponseSignature(httpStatus: response.status, reason: "X-Request-Nonce \(echoed) is not the nonce this request was sent with")
        }
        let canonical = canonicalString(
            status: response.status, requestPath: requestPath, requestNonce: requestNonce, requestBody: requestBody, timestamp: timestamp,
            nonce: nonce,
            body: response.body)
        guard RequestSigner.constantTimeEquals(Self.signature(canonical: canonical, secret: secret), signature) else {
            throw .badResponseSignature(httpStatus: response.status, reason: "X-Response-Signature does not match")
        }
    }
}
