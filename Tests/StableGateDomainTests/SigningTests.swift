import Foundation
import Testing
@testable import StableGateDomain

/// The committed vectors (Tests/Fixtures/signing-vectors.json) were computed with Python's
/// hashlib/hmac, independently of this code.
struct SigningVectors: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name, method, path, query, timestamp, nonce, body: String
        let body_sha256, canonical, signature: String
        var testDescription: String { name }
    }
    let secret: String
    let vectors: [Vector]

    static func load() throws -> SigningVectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/signing-vectors.json")
        return try JSONDecoder().decode(SigningVectors.self, from: Data(contentsOf: url))
    }
}

@Suite("Request signing (seed 003)")
struct SigningTests {
    static let fixture = try! SigningVectors.load()

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
