import Crypto

/// BIP-32 hierarchical deterministic keys (private derivation), for one fresh deposit address
/// per checkout intent from a single seed: the seed lives in configuration, the database keeps
/// only each intent's index and address.
public struct HDWallet: Sendable {
    /// The default path prefix for deposit addresses: m/44'/60'/0'/0 (BIP-44, Ethereum).
    public static let depositPath: [UInt32] = [44 | hardened, 60 | hardened, 0 | hardened, 0]
    /// The path prefix for shopper-account wallets: m/44'/60'/1'/0 (BIP-44 account 1).
    public static let accountPath: [UInt32] = [44 | hardened, 60 | hardened, 1 | hardened, 0]
    /// Flag for hardened derivation.
    public static let hardened: UInt32 = 0x8000_0000

    private let key: [UInt8]
    private let chainCode: [UInt8]

    /// The master key of a 16–64 byte seed.
    public init(seed: [UInt8]) throws(Secp256k1.KeyError) {
        guard (16...64).contains(seed.count) else { throw Secp256k1.KeyError(description: "an HD seed must be 16–64 bytes") }
        let digest = Array(HMAC<SHA512>.authenticationCode(for: seed, using: SymmetricKey(data: Array("Bitcoin seed".utf8))))
        guard Secp256k1.isValidPrivateKey(Array(digest[0..<32])) else {
            throw Secp256k1.KeyError(description: "seed yields an invalid master key; use another seed")
        }
        key = Array(digest[0..<32])
        chainCode = Array(digest[32..<64])
    }

    private init(key: [UInt8], chainCode: [UInt8]) {
        self.key = key
        self.chainCode = chainCode
    }

    /// The private key at this node.
    public var privateKey: [UInt8] { key }

    /// The child at `index` (≥ 2^31 for hardened).
    public func child(_ index: UInt32) throws(Secp256k1.KeyError) -> HDWallet {
        var data: [UInt8]
        if index & Self.hardened != 0 {
            data = [0] + key
        } else {
            data = try Secp256k1.publicKey(privateKey: key, compressed: true)
        }
        data += [UInt8(index >> 24), UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF)]
        let digest = Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: chainCode)))
        let childKey = try Secp256k1.add(privateKey: key, tweak: Array(digest[0..<32]))
        return HDWallet(key: childKey, chainCode: Array(digest[32..<64]))
    }

    /// The node at `path` below this one.
    public func derive(_ path: [UInt32]) throws(Secp256k1.KeyError) -> HDWallet {
        var node = self
        for index in path { node = try node.child(index) }
        return node
    }

    /// The private key of deposit address number `index` (m/44'/60'/0'/0/index).
    public func depositKey(index: UInt32) throws(Secp256k1.KeyError) -> [UInt8] {
        try derive(Self.depositPath + [index]).privateKey
    }
}
