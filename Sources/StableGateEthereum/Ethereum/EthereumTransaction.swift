import BigInt
import Foundation

/// An Ethereum transaction to sign: EIP-1559 (type 2) where the chain supports it, or legacy
/// with EIP-155 replay protection (BSC and other chains without a base fee).
public struct EthereumTransaction: Sendable, Equatable {
    /// How the transaction pays for gas.
    public enum Fees: Sendable, Equatable {
        case legacy(gasPrice: BigUInt)
        case eip1559(maxFeePerGas: BigUInt, maxPriorityFeePerGas: BigUInt)

        /// The most one unit of gas can cost.
        public var maximumPerGas: BigUInt {
            switch self {
            case .legacy(let price): price
            case .eip1559(let maximum, _): maximum
            }
        }
    }

    public var chainId: UInt64
    public var nonce: UInt64
    public var fees: Fees
    public var gasLimit: UInt64
    public var to: EthereumAddress
    public var value: BigUInt
    public var data: [UInt8]

    public init(chainId: UInt64, nonce: UInt64, fees: Fees, gasLimit: UInt64, to: EthereumAddress, value: BigUInt = 0, data: [UInt8] = []) {
        self.chainId = chainId
        self.nonce = nonce
        self.fees = fees
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
    }

    /// A signed transaction, ready for `eth_sendRawTransaction`.
    public struct Signed: Sendable, Equatable {
        /// The raw bytes to broadcast.
        public let raw: [UInt8]
        /// Keccak-256 of the raw bytes: the transaction hash.
        public let hash: [UInt8]
        /// `0x` + hex of ``raw``.
        public var rawHex: String { Hex.encode(raw) }
        /// `0x` + hex of ``hash``.
        public var hashHex: String { Hex.encode(hash) }

        /// A signed transaction from its stored raw bytes and their hash, to broadcast it again.
        public init(raw: [UInt8], hash: [UInt8]) {
            self.raw = raw
            self.hash = hash
        }
    }

    private var unsignedFields: [RLPItem] {
        switch fees {
        case .legacy(let gasPrice):
            return [.uint(nonce), .uint(gasPrice), .uint(gasLimit), .bytes(to.bytes), .uint(value), .bytes(data)]
        case .eip1559(let maximum, let priority):
            return [
                .uint(chainId), .uint(nonce), .uint(priority), .uint(maximum), .uint(gasLimit), .bytes(to.bytes), .uint(value), .bytes(data),
                .list([]),
            ]
        }
    }

    /// The digest that is signed.
    public var signingHash: [UInt8] {
        switch fees {
        case .legacy:
            return Keccak256.hash(RLPItem.list(unsignedFields + [.uint(chainId), .bytes([]), .bytes([])]).encoded)
        case .eip1559:
            return Keccak256.hash([0x02] + RLPItem.list(unsignedFields).encoded)
        }
    }

    /// Signs with a private key.
    public func signed(with privateKey: [UInt8]) throws(Secp256k1.KeyError) -> Signed {
        let signature = try Secp256k1.sign(digest: signingHash, privateKey: privateKey)
        let r = RLPItem.uint(BigUInt(Data(signature.r)))
        let s = RLPItem.uint(BigUInt(Data(signature.s)))
        let raw: [UInt8]
        switch fees {
        case .legacy:
            let v = BigUInt(chainId) * 2 + 35 + BigUInt(signature.recoveryId)
            raw = RLPItem.list(unsignedFields + [.uint(v), r, s]).encoded
        case .eip1559:
            raw = [0x02] + RLPItem.list(unsignedFields + [.uint(UInt64(signature.recoveryId)), r, s]).encoded
        }
        return Signed(raw: raw, hash: Keccak256.hash(raw))
    }
}
