import StableGateDomain

/// A 20-byte account address, printed with its EIP-55 checksum.
public struct EthereumAddress: Sendable, Hashable, CustomStringConvertible {
    /// The 20 bytes.
    public let bytes: [UInt8]

    /// From 20 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// Parses `0x` + 40 hex digits. All-lower and all-upper case are accepted as unchecksummed;
    /// mixed case must match EIP-55 exactly (a mistyped address is refused, not guessed at).
    public init?(_ text: String) {
        guard EVMAddressFormat.isValid(text), let bytes = Hex.decode(text) else { return nil }
        self.bytes = bytes
        let digits = text.dropFirst(2)
        let isUniformCase = digits == digits.lowercased() || digits == digits.uppercased()
        guard isUniformCase || text == checksummed else { return nil }
    }

    /// The address of an uncompressed (65-byte) public key.
    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 65 && publicKey[0] == 4, "expects an uncompressed public key")
        bytes = Array(Keccak256.hash(publicKey.dropFirst()).suffix(20))
    }

    /// The address of a private key.
    public init(privateKey: [UInt8]) throws(Secp256k1.KeyError) {
        self.init(publicKey: try Secp256k1.publicKey(privateKey: privateKey))
    }

    /// EIP-55 mixed-case text.
    public var checksummed: String { Self.checksummed(lowercaseDigits: Array(bytes.hexString.utf8)) }

    /// EIP-55 text of stored lower-case `0x` text, without parsing it into an address first
    /// (exports checksum three addresses per row); nil unless `text` is `0x` and 40 lower-case
    /// hex digits.
    public static func checksummed(lowercaseText text: String) -> String? {
        let utf8 = text.utf8
        guard utf8.count == 42, utf8.starts(with: "0x".utf8) else { return nil }
        let digits = Array(utf8.dropFirst(2))
        guard digits.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return checksummed(lowercaseDigits: digits)
    }

    /// EIP-55: a letter is upper case where the matching nibble of the Keccak-256 of the
    /// lower-case digits is 8 or more.
    private static func checksummed(lowercaseDigits digits: [UInt8]) -> String {
        let hash = Keccak256.hash(digits)
        var output: [UInt8] = [0x30, 0x78]
        output.reserveCapacity(42)
        for (index, digit) in digits.enumerated() {
            let nibble = index.isMultiple(of: 2) ? hash[index / 2] >> 4 : hash[index / 2] & 0x0F
            output.append(nibble >= 8 && digit >= UInt8(ascii: "a") ? digit - 32 : digit)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lower-case `0x` text, the form addresses are stored and compared in.
    public var lowercased: String { "0x" + bytes.hexString }

    public var description: String { checksummed }

    /// The 32-byte ABI / log-topic form.
    public var word: [UInt8] { [UInt8](repeating: 0, count: 12) + bytes }
}
