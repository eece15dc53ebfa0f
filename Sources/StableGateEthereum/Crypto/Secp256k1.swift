import CSecp256k1

/// secp256k1 keys and recoverable ECDSA signatures, from Debian's libsecp256k1.
public enum Secp256k1 {
    /// One context for the process: after creation it is only read, which libsecp256k1 allows
    /// from any thread.
    nonisolated(unsafe) private static let context: OpaquePointer = {
        let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
        var seed = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for index in seed.indices { seed[index] = UInt8.random(in: .min ... .max, using: &rng) }
        _ = secp256k1_context_randomize(context, seed)  // side-channel hardening only
        return context
    }()

    /// A signature with its recovery id.
    public struct RecoverableSignature: Sendable, Equatable {
        public let r: [UInt8]
        public let s: [UInt8]
        /// 0 or 1.
        public let recoveryId: UInt8
    }

    /// Why a key operation failed.
    public struct KeyError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Whether 32 bytes form a valid private key (non-zero, below the group order).
    public static func isValidPrivateKey(_ key: [UInt8]) -> Bool {
        key.count == 32 && secp256k1_ec_seckey_verify(context, key) == 1
    }

    /// The 65-byte uncompressed public key (`04 ‖ x ‖ y`) of a private key.
    public static func publicKey(privateKey: [UInt8], compressed: Bool = false) throws(KeyError) -> [UInt8] {
        guard privateKey.count == 32 else { throw KeyError(description: "private key must be 32 bytes") }
        var pubkey = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(context, &pubkey, privateKey) == 1 else {
            throw KeyError(description: "invalid private key")
        }
        return serialize(&pubkey, compressed: compressed)
    }

    private static func serialize(_ pubkey: inout secp256k1_pubkey, compressed: Bool) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: compressed ? 33 : 65)
        var length = output.count
        _ = secp256k1_ec_pubkey_serialize(
            context, &output, &length, &pubkey, UInt32(compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED))
        return Array(output.prefix(length))
    }

    /// Signs a 32-byte digest (RFC 6979 nonces, low-S).
    public static func sign(digest: [UInt8], privateKey: [UInt8]) throws(KeyError) -> RecoverableSignature {
        guard digest.count == 32 else { throw KeyError(description: "digest must be 32 bytes") }
        var signature = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(context, &signature, digest, privateKey, nil, nil) == 1 else {
            throw KeyError(description: "signing failed: invalid private key")
        }
        var compact = [UInt8](repeating: 0, count: 64)
        var recoveryId: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(context, &compact, &recoveryId, &signature)
        return RecoverableSignature(r: Array(compact[0..<32]), s: Array(compact[32..<64]), recoveryId: UInt8(recoveryId))
    }

    /// The uncompressed public key that made `signature` over `digest`.
    public static func recoverPublicKey(digest: [UInt8], signature: RecoverableSignature) throws(KeyError) -> [UInt8] {
        var parsed = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(context, &parsed, signature.r + signature.s, Int32(signature.recoveryId)) == 1
        else {
            throw KeyError(description: "malformed signature")
        }
        var pubkey = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(context, &pubkey, &parsed, digest) == 1 else {
            throw KeyError(description: "signature does not recover to a key")
        }
        return serialize(&pubkey, compressed: false)
    }

    /// `(key + tweak) mod n`, for BIP-32 child keys.
    static func add(privateKey: [UInt8], tweak: [UInt8]) throws(KeyError) -> [UInt8] {
        var key = privateKey
        guard secp256k1_ec_seckey_tweak_add(context, &key, tweak) == 1 else {
            throw KeyError(description: "BIP-32 child key out of range")
        }
        return key
    }
}
