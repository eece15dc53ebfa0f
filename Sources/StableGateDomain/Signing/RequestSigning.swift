import Crypto
import Foundation

/// The AllScale request-signing scheme (docs/WIRE-CONTRACT.md §2.2, §2.3), shared by the server,
/// webhooks and the client SDK.
///
/// canonical = METHOD \n PATH \n QUERY \n TIMESTAMP \n NONCE \n hex(sha256(raw body bytes))
/// signature header = "v1=" + base64(HMAC-SHA256(secret, canonical))
///
/// PATH is the path exactly as sent on the wire (percent-encoding and trailing slash kept),
/// QUERY the raw query string without `?` ("" when none).
public enum RequestSigning {
    /// The only signature version.
    public static let versionPrefix = "v1="
    /// How far a request's timestamp may be from the server's clock, in seconds, unless its
    /// store chose a narrower window: ±600 s, as AllScale now uses (docs/WIRE-CONTRACT.md §2.5).
    public static let defaultReplayWindow = 600
    /// The windows a store may choose.
    public static let replayWindowRange = 30...600

    /// Lower-case hex SHA-256 of the body (of zero bytes for an empty body).
    public static func bodyHash(_ body: some DataProtocol) -> String {
        SHA256.hash(data: body).hexString
    }

    /// The canonical string to sign.
    public static func canonicalString(
        method: String, path: String, query: String, timestamp: String, nonce: String, bodySHA256Hex: String
    ) -> String {
        [method.uppercased(), path, query, timestamp, nonce, bodySHA256Hex].joined(separator: "\n")
    }

    /// The `X-Signature` header value for a canonical string.
    public static func signature(canonical: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(canonical.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return versionPrefix + Data(mac).base64EncodedString()
    }

    /// Whether `header` is a valid `v1=` signature of `canonical`. The MAC comparison runs in
    /// constant time (swift-crypto's `isValidAuthenticationCode`).
    public static func isValid(signatureHeader header: String, canonical: String, secret: String) -> Bool {
        guard header.hasPrefix(versionPrefix),
            let mac = Data(base64Encoded: String(header.dropFirst(versionPrefix.count))),
            mac.count == SHA256.byteCount
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Array(canonical.utf8), using: SymmetricKey(data: Array(secret.utf8)))
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal text of the bytes.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
