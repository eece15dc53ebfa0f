import Crypto

/// The capability of a hosted checkout URL (`{public_url}/checkout/{token}`).
///
/// Intent ids are ObjectId-shaped (time, a per-process value and a counter) and therefore
/// guessable from one another; they identify an intent to its merchant but grant nothing on
/// the public side. The page is addressed by a token of ``byteCount`` bytes from the system
/// CSPRNG instead. The intent row keeps its SHA-256 for lookup (``digest(_:)``) and the token
/// itself only sealed under the master key, so that the merchant's full GET and webhook bodies
/// can repeat the URL.
public struct CheckoutLink: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the token: what a request's token is looked up by.
    public let tokenHash: String
    /// The token sealed under the master key (`SecretBox`, purpose ``sealPurpose``).
    public let sealedToken: String

    public init(tokenHash: String, sealedToken: String) {
        self.tokenHash = tokenHash
        self.sealedToken = sealedToken
    }

    /// The `SecretBox` purpose a token is sealed for.
    public static let sealPurpose = "checkout_link"
    /// Random bytes per token: 144 bits, above the 128 a capability needs.
    public static let byteCount = 18
    /// Characters of a token: base64url of ``byteCount`` bytes, no padding.
    public static let tokenLength = 24

    /// A new token from `random` bytes (``byteCount`` of them), as base64url without padding.
    public static func token(from random: [UInt8]) -> String {
        precondition(random.count == byteCount, "a checkout token takes \(byteCount) random bytes")
        return Base64URL.encode(random)
    }

    /// Whether `text` has a token's shape; anything else is answered like an unknown token
    /// without touching the database.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        text.utf8.count == tokenLength && text.utf8.allSatisfy(Base64URL.isAlphabet)
    }

    /// The stored form of `token`.
    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).hexString
    }
}

/// RFC 4648 §5 base64url without padding, for tokens that travel in URL paths.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = UInt32(0)
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[Int((value >> (18 - 6 * position)) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `byte` is one of base64url's 64 characters.
    public static func isAlphabet(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }
}
