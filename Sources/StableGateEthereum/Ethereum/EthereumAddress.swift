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
    public var checksummed: String {
        let lower = bytes.hexString
        let hash = Keccak256.hash(Array(lower.utf8))
        var output = "0x"
        for (index, character) in lower.enumerated() {
            let nibble = index.isMultiple(of: 2) ? hash[index / 2] >> 4 : hash[index / 2] & 0x0F
            output.append(nibble >= 8 ? Character(character.uppercased()) : character)
        }
        return output
    }

    /// Lower-case `0x` text, the form addresses are stored and compared in.
    public var lowercased: String { "0x" + bytes.hexString }

    public var description: String { checksummed }

    /// The 32-byte ABI / log-topic form.
    public var word: [UInt8] { [UInt8](repeating: 0, count: 12) + bytes }
}
