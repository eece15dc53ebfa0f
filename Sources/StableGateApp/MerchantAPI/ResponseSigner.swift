import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StableGateDomain

/// Signs API responses for stores that turned it on (docs/WIRE-CONTRACT.md §8): collects the
/// response body, signs ``ResponseSigning/canonicalString(status:requestPath:requestNonce:requestBodySHA256Hex:timestamp:nonce:responseBodySHA256Hex:)``
/// with the key's secret, and adds `X-Response-Timestamp`, `X-Response-Nonce`,
/// `X-Response-Signature`, `X-Request-Nonce` and `X-Request-Id`.
struct ResponseSigner: Sendable {
    let identifiers: any IdentifierGenerator
    let clock: any WallClock

    /// The request facts the signature covers.
    struct SignedRequest: Sendable {
        let path: String
        let nonce: String
        let bodySHA256Hex: String
        let requestId: String
    }

    func sign(_ response: Response, for request: SignedRequest, secret: String) async throws -> Response {
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(target: collected))
        let body = collected.buffer
        let timestamp = String(Int64(clock.now.timeIntervalSince1970))
        let nonce = identifiers.randomBytes(16).hexString
        let canonical = ResponseSigning.canonicalString(
            status: Int(response.status.code), requestPath: request.path, requestNonce: request.nonce, requestBodySHA256Hex: request.bodySHA256Hex,
            timestamp: timestamp, nonce: nonce, responseBodySHA256Hex: RequestSigning.bodyHash(body.readableBytesView))
        var headers = response.headers
        headers[.responseTimestamp] = timestamp
        headers[.responseNonce] = nonce
        headers[.responseSignature] = RequestSigning.signature(canonical: canonical, secret: secret)
        headers[.requestNonce] = request.nonce
        headers[.requestId] = request.requestId
        return Response(status: response.status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// Where ``CollectingWriter`` puts the bytes; used by one task at a time.
private final class CollectedBody: @unchecked Sendable {
    var buffer = ByteBuffer()
}

/// A response body writer that keeps what it is given.
private struct CollectingWriter: ResponseBodyWriter {
    let target: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        target.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension HTTPField.Name {
    /// `X-Response-Timestamp`.
    static let responseTimestamp = Self("X-Response-Timestamp")!
    /// `X-Response-Nonce`.
    static let responseNonce = Self("X-Response-Nonce")!
    /// `X-Response-Signature`.
    static let responseSignature = Self("X-Response-Signature")!
    /// `X-Request-Nonce`: the request's `X-Nonce`, repeated.
    static let requestNonce = Self("X-Request-Nonce")!
}
