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

    /// EIP-55 text of stored lower-case `0x` text, without parsing it into an address first;
    /// nil unless `text` is `0x` and 40 lower-case hex digits.
    public static func checksummed(lowercaseText text: String) -> String? {
        var output: [UInt8] = []
        guard appendChecksummed(lowercaseText: text, to: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the EIP-55 text of stored lower-case `0x` text to `output` (exports write three
    /// addresses a row); false, appending nothing, unless `text` is `0x` and 40 lower-case hex
    /// digits.
    public static func appendChecksummed(lowercaseText text: String, to output: inout [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            guard utf8.count == 42, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") else { return false }
            let digits = UnsafeBufferPointer(rebasing: utf8[2...])
            guard digits.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return false }
            appendChecksummed(lowercaseDigits: digits, to: &output)
            return true
        }
    }

    /// EIP-55: a letter is upper case where the matching nibble of the Keccak-256 of the
    /// lower-case digits is 8 or more.
    private static func checksummed(lowercaseDigits digits: [UInt8]) -> String {
        var output: [UInt8] = []
        digits.withUnsafeBufferPointer { appendChecksummed(lowercaseDigits: $0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendChecksummed(lowercaseDigits digits: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        let hash = Keccak256.hash(digits)
        output.append(UInt8(ascii: "0"))
        output.append(UInt8(ascii: "x"))
        for (index, digit) in digits.enumerated() {
            let nibble = index.isMultiple(of: 2) ? hash[index / 2] >> 4 : hash[index / 2] & 0x0F
            output.append(nibble >= 8 && digit >= UInt8(ascii: "a") ? digit - 32 : digit)
        }
    }

    /// Lower-case `0x` text, the form addresses are stored and compared in.
    public var lowercased: String { "0x" + bytes.hexString }

    public var description: String { checksummed }

    /// The 32-byte ABI / log-topic form.
    public var word: [UInt8] { [UInt8](repeating: 0, count: 12) + bytes }
}
