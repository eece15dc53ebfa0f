import StableGateDomain
import Testing

@Suite("Checkout link tokens")
struct CheckoutLinkTests {
    @Test("A token is 144 random bits in 24 base64url characters; its stored digest is SHA-256")
    func shape() {
        let generator = SystemIdentifierGenerator()
        var seen = Set<String>()
        for _ in 0..<1000 {
            let bytes = generator.randomBytes(CheckoutLink.byteCount)
            let token = CheckoutLink.token(from: bytes)
            #expect(token.count == CheckoutLink.tokenLength)
            #expect(CheckoutLink.isWellFormed(token))
            seen.insert(token)
        }
        #expect(CheckoutLink.byteCount * 8 >= 128)
        #expect(seen.count == 1000, "no two tokens alike")
        // SHA-256("abc"), the FIPS 180-2 vector: the digest is the plain hash of the token text.
        #expect(CheckoutLink.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("base64url matches RFC 4648 §10 vectors (without padding)")
    func base64url() {
        let vectors: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors { #expect(Base64URL.encode(Array(plain.utf8)) == encoded) }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_", "the URL-safe alphabet, not + and /")
    }

    @Test("Only the token's shape is looked up: wrong lengths, padding and other characters are not tokens")
    func wellFormed() {
        #expect(!CheckoutLink.isWellFormed("0123456789abcdef01234567".dropLast()))
        #expect(!CheckoutLink.isWellFormed("abc"))
        #expect(!CheckoutLink.isWellFormed(String(repeating: "A", count: 23) + "="))
        #expect(!CheckoutLink.isWellFormed(String(repeating: "A", count: 23) + "/"))
        #expect(!CheckoutLink.isWellFormed(String(repeating: "A", count: 25)))
    }
}
