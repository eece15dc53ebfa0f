import Foundation
import Testing

@testable import StableGateDomain

/// Decodes the committed fixture `Tests/Fixtures/<name>`.
func decodeFixture<T: Decodable>(_ name: String) throws -> T {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/" + name)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// The committed vectors (Tests/Fixtures/signing-vectors.json) were computed with Python's
/// hashlib/hmac, independently of this code.
struct SigningVectors: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name, method, path, query, timestamp, nonce, body: String
        // The fixture's own member names, decoded as they are written.
        // swift-format-ignore: AlwaysUseLowerCamelCase
        let body_sha256, canonical, signature: String
        var testDescription: String { name }
    }
    let secret: String
    let vectors: [Vector]
}

@Suite("Request signing (docs/WIRE-CONTRACT.md §2)")
struct SigningTests {
    static let fixture: SigningVectors = try! decodeFixture("signing-vectors.json")

    @Test("Canonical strings, body hashes and signatures match the committed vectors", arguments: fixture.vectors)
    func vectors(vector: SigningVectors.Vector) {
        let bodyHash = RequestSigning.bodyHash(Array(vector.body.utf8))
        #expect(bodyHash == vector.body_sha256)
        let canonical = RequestSigning.canonicalString(
            method: vector.method, path: vector.path, query: vector.query, timestamp: vector.timestamp, nonce: vector.nonce,
            bodySHA256Hex: bodyHash)
        #expect(canonical == vector.canonical)
        #expect(RequestSigning.signature(canonical: canonical, secret: Self.fixture.secret) == vector.signature)
        #expect(RequestSigning.isValid(signatureHeader: vector.signature, canonical: canonical, secret: Self.fixture.secret))
    }

    @Test("There are at least the five kinds of request the issue names")
    func coverage() {
        let names = Self.fixture.vectors.map(\.name).joined(separator: " | ")
        #expect(Self.fixture.vectors.contains { $0.method == "GET" && !$0.query.isEmpty })
        #expect(Self.fixture.vectors.contains { $0.method == "POST" && !$0.body.isEmpty })
        #expect(Self.fixture.vectors.contains { $0.path.hasSuffix("/") })
        #expect(Self.fixture.vectors.contains { $0.body.unicodeScalars.contains { $0.value > 0xFFFF } }, "\(names)")
    }

    @Test("The empty body hashes as SHA-256 of zero bytes")
    func emptyBody() {
        #expect(RequestSigning.bodyHash([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("Tampered, truncated, unprefixed or wrongly keyed signatures are refused")
    func rejects() throws {
        let vector = try #require(Self.fixture.vectors.first)
        let secret = Self.fixture.secret
        let good = vector.signature
        #expect(!RequestSigning.isValid(signatureHeader: String(good.dropFirst(3)), canonical: vector.canonical, secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: "v2=" + good.dropFirst(3), canonical: vector.canonical, secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: String(good.dropLast(4)) + "AAA=", canonical: vector.canonical, secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: "v1=not base64!", canonical: vector.canonical, secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: "v1=", canonical: vector.canonical, secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: good, canonical: vector.canonical + "x", secret: secret))
        #expect(!RequestSigning.isValid(signatureHeader: good, canonical: vector.canonical, secret: secret + "x"))
    }
}

/// The committed vectors of docs/WIRE-CONTRACT.md §7.2 and §8 (Tests/Fixtures/allscale-current-vectors.json),
/// computed with Python's hashlib/hmac; AllScaleKitTests and the e2e suite check the same file.
struct AllScaleCurrentVectors: Decodable {
    struct Webhook: Decodable, CustomTestStringConvertible {
        // swift-format-ignore: AlwaysUseLowerCamelCase
        let name, url, path, query, webhook_id, timestamp, nonce, body, body_sha256, canonical, signature: String
        var testDescription: String { name }
    }
    struct SignedResponse: Decodable, CustomTestStringConvertible {
        // swift-format-ignore: AlwaysUseLowerCamelCase
        let name, path, request_nonce, request_body, request_body_sha256, timestamp, nonce, body, body_sha256, canonical, signature: String
        let status: Int
        var testDescription: String { name }
    }
    let secret: String
    let webhooks: [Webhook]
    let responses: [SignedResponse]
}

@Suite("Webhook and response signing (docs/WIRE-CONTRACT.md §7.2, §8)")
struct WebhookSigningTests {
    static let fixture: AllScaleCurrentVectors = try! decodeFixture("allscale-current-vectors.json")

    @Test("Webhook canonical strings and signatures match the committed vectors, PATH and QUERY taken from the URL", arguments: fixture.webhooks)
    func webhooks(vector: AllScaleCurrentVectors.Webhook) throws {
        let url = try #require(URLComponents(string: vector.url))
        // A URL without a path is signed with PATH "/" (WebhookSigning.canonicalString).
        #expect((url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath) == vector.path && (url.percentEncodedQuery ?? "") == vector.query)
        let headers = WebhookSigning.headers(
            path: url.percentEncodedPath, query: url.percentEncodedQuery ?? "", body: Array(vector.body.utf8), apiKey: "ak_test",
            secret: Self.fixture.secret, webhookId: vector.webhook_id, timestamp: vector.timestamp, nonce: vector.nonce)
        #expect(headers.map(\.0) == ["X-API-Key", "X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Nonce", "X-Webhook-Signature"])
        #expect(headers.first { $0.0 == "X-Webhook-Signature" }?.1 == vector.signature)
        #expect(headers.first { $0.0 == "X-Webhook-Id" }?.1 == vector.webhook_id)
        let canonical = WebhookSigning.canonicalString(
            path: vector.path, query: vector.query, webhookId: vector.webhook_id, timestamp: vector.timestamp, nonce: vector.nonce,
            bodySHA256Hex: vector.body_sha256)
        #expect(canonical == vector.canonical)
        #expect(RequestSigning.bodyHash(Array(vector.body.utf8)) == vector.body_sha256)
    }

    @Test("Response canonical strings and signatures match the committed vectors", arguments: fixture.responses)
    func responses(vector: AllScaleCurrentVectors.SignedResponse) {
        #expect(RequestSigning.bodyHash(Array(vector.request_body.utf8)) == vector.request_body_sha256)
        let canonical = ResponseSigning.canonicalString(
            status: vector.status, requestPath: vector.path, requestNonce: vector.request_nonce, requestBodySHA256Hex: vector.request_body_sha256,
            timestamp: vector.timestamp, nonce: vector.nonce, responseBodySHA256Hex: RequestSigning.bodyHash(Array(vector.body.utf8)))
        #expect(canonical == vector.canonical)
        #expect(RequestSigning.signature(canonical: canonical, secret: Self.fixture.secret) == vector.signature)
    }

    @Test("New webhook ids are wh_ and 32 hex digits, and differ")
    func webhookIds() {
        let generator = SystemIdentifierGenerator()
        let ids = (0..<100).map { _ in WebhookSigning.newWebhookId(generator) }
        #expect(Set(ids).count == 100 && ids.allSatisfy { $0.count == 35 && $0.hasPrefix("wh_") })
    }
}
