import StableGateDomain

/// The gateway's keys: the HD seed behind every deposit address, the hot wallet that pays
/// deposit wallets' gas, and the operator's fee address. They come from configuration (or, in
/// the sandbox, are generated and stored sealed under the master key) — never from the chains file.
public struct GatewayWallets: Sendable {
    private let deposits: HDWallet
    private let hotWalletKey: [UInt8]
    /// The hot wallet's address.
    public let hotWallet: EthereumAddress
    /// Where service fees go.
    public let feeAddress: EthereumAddress

    public init(depositSeed: [UInt8], hotWalletKey: [UInt8], feeAddress: EthereumAddress?) throws {
        deposits = try HDWallet(seed: depositSeed)
        guard Secp256k1.isValidPrivateKey(hotWalletKey) else {
            throw Secp256k1.KeyError(description: "the hot wallet key is not a valid secp256k1 private key")
        }
        self.hotWalletKey = hotWalletKey
        hotWallet = try EthereumAddress(privateKey: hotWalletKey)
        self.feeAddress = feeAddress ?? hotWallet
    }

    /// The key of deposit address number `index`.
    public func depositKey(index: Int64) throws -> [UInt8] {
        try deposits.depositKey(index: Self.childIndex(index, of: "deposit"))
    }

    /// A non-hardened child index, or an error naming what it numbers.
    private static func childIndex(_ index: Int64, of what: String) throws -> UInt32 {
        guard let child = UInt32(exactly: index), child < HDWallet.hardened else {
            throw Secp256k1.KeyError(description: "\(what) index \(index) is out of range")
        }
        return child
    }

    /// Deposit address number `index`.
    public func depositAddress(index: Int64) throws -> EthereumAddress {
        try EthereumAddress(privateKey: depositKey(index: index))
    }

    /// The key of shopper account number `index`: m/44'/60'/1'/0/index, a BIP-44 account of
    /// its own, so it can never collide with an intent's deposit address.
    public func accountKey(index: Int64) throws -> [UInt8] {
        try deposits.derive(HDWallet.accountPath + [Self.childIndex(index, of: "account")]).privateKey
    }

    /// The custodial deposit address of shopper account number `index` (every EVM chain).
    public func accountAddress(index: Int64) throws -> EthereumAddress {
        try EthereumAddress(privateKey: accountKey(index: index))
    }

    /// The hot wallet's key, for signing gas top-ups.
    public var hotKey: [UInt8] { hotWalletKey }
}
