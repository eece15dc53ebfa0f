import BigInt
import Foundation
import StableGateDomain
import Testing

@testable import StableGateEthereum

/// Vectors are published ones (Keccak team / EIP-155 / EIP-55 / BIP-32 test vector 1), the
/// rest computed with eth-hash and eth-account, implementations independent of this code.
@Suite("Keccak-256, secp256k1, addresses, transactions, BIP-32")
struct CryptoVectorTests {
    @Test(
        "Keccak-256 is the legacy Keccak, not NIST SHA3-256",
        arguments: [
            ("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
            ("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
            ("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"),
        ])
    func keccak(input: String, digest: String) {
        #expect(Keccak256.hash(Array(input.utf8)).hexString == digest)
    }

    @Test(
        "Keccak-256 across the 136-byte block boundary",
        arguments: [
            (135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"),
            (136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"),
            (137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"),
            (272, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8"),
            (1000, "b6a4ac1f51884d71f30fa397a5e155de3099e11fc0edef5d08b646e621e19de9"),
        ])
    func keccakBlocks(length: Int, digest: String) {
        #expect(Keccak256.hash([UInt8](repeating: UInt8(ascii: "a"), count: length)).hexString == digest)
    }

    @Test("ERC-20 selectors and the Transfer topic")
    func selectors() {
        #expect(ERC20.selector("transfer(address,uint256)").hexString == "a9059cbb")
        #expect(ERC20.selector("balanceOf(address)").hexString == "70a08231")
        #expect(ERC20.decimalsCall.hexString == "313ce567")
        #expect(ERC20.transferTopic.hexString == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
    }

    @Test("Private keys 1 and 2 give their well-known addresses")
    func addresses() throws {
        var one = [UInt8](repeating: 0, count: 32)
        one[31] = 1
        #expect(try EthereumAddress(privateKey: one).checksummed == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        one[31] = 2
        #expect(try EthereumAddress(privateKey: one).checksummed == "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")
        #expect(!Secp256k1.isValidPrivateKey([UInt8](repeating: 0, count: 32)))
        #expect(!Secp256k1.isValidPrivateKey([UInt8](repeating: 0xFF, count: 32)))
    }

    @Test(
        "EIP-55 checksums: the EIP's own examples",
        arguments: [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
            "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
        ])
    func checksums(text: String) throws {
        let address = try #require(EthereumAddress(text))
        if text.dropFirst(2).contains(where: \.isLowercase) && text.dropFirst(2).contains(where: \.isUppercase) {
            #expect(address.checksummed == text)
        }
        #expect(EthereumAddress(address.checksummed) == address)
        #expect(EthereumAddress(address.lowercased) == address)
        #expect(EthereumAddress.checksummed(lowercaseText: address.lowercased) == address.checksummed, "the export's stored-text path")
    }

    @Test("A mistyped mixed-case address is refused, not guessed at")
    func badChecksum() {
        #expect(EthereumAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") == nil)
        #expect(EthereumAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe") == nil)
        #expect(EthereumAddress("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") == nil)
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "",
        ] {
            #expect(EthereumAddress.checksummed(lowercaseText: text) == nil, "only stored lower-case text takes the direct path: \(text)")
        }
    }

    @Test("Signatures recover to the signer, with low S")
    func signAndRecover() throws {
        let key = Array(repeating: UInt8(0x46), count: 32)
        let digest = Keccak256.hash(Array("stablegate".utf8))
        let signature = try Secp256k1.sign(digest: digest, privateKey: key)
        #expect(try Secp256k1.recoverPublicKey(digest: digest, signature: signature) == Secp256k1.publicKey(privateKey: key))
        let halfOrder = BigUInt("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0", radix: 16)!
        #expect(BigUInt(Data(signature.s)) <= halfOrder)
    }

    @Test("EIP-155's own example transaction signs byte for byte")
    func eip155Example() throws {
        let transaction = EthereumTransaction(
            chainId: 1, nonce: 9, fees: .legacy(gasPrice: 20_000_000_000), gasLimit: 21000,
            to: try #require(EthereumAddress("0x3535353535353535353535353535353535353535")), value: BigUInt(10).power(18))
        #expect(transaction.signingHash.hexString == "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
        let signed = try transaction.signed(with: Array(repeating: 0x46, count: 32))
        #expect(
            signed.raw.hexString
                == "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        )
    }

    @Test("EIP-1559 and large-chain-id legacy transactions match eth-account")
    func typedTransactions() throws {
        var key = [UInt8](repeating: 0, count: 32)
        key[31] = 2
        let token = try #require(EthereumAddress("0xF2E246BB76DF876Cef8b38ae84130F4F55De395b"))
        let recipient = try #require(EthereumAddress("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"))
        let dynamic = EthereumTransaction(
            chainId: 131_277_322_940_537, nonce: 5, fees: .eip1559(maxFeePerGas: 3_000_000_000, maxPriorityFeePerGas: 1_000_000_000),
            gasLimit: 65000, to: token, data: ERC20.transferCall(to: recipient, amount: 1_000_000))
        let signed = try dynamic.signed(with: key)
        #expect(
            signed.raw.hexString
                == "02f8b58677656233707905843b9aca0084b2d05e0082fde894f2e246bb76df876cef8b38ae84130f4f55de395b80b844a9059cbb0000000000000000000000002b5ad5c4795c026514f8317c7a215e218dccd6cf00000000000000000000000000000000000000000000000000000000000f4240c001a0b41935552d674f33251e80e15912659332ce6687eabb8e7cd599abfb96e570dba03f22ba8b8d7c655365dd5af8bc684b4e6a3f8a46352d5abcb1961fdec40634c0"
        )
        #expect(signed.hash.hexString == "93cdfd062d80b69b20192e81b730584c0cad8668370f8de58104b891c1ac98b2")
        key[31] = 3
        let legacy = EthereumTransaction(
            chainId: 131_277_322_940_538, nonce: 0, fees: .legacy(gasPrice: 2_000_000_000), gasLimit: 21000, to: recipient,
            value: BigUInt(10).power(18))
        let legacySigned = try legacy.signed(with: key)
        #expect(
            legacySigned.raw.hexString
                == "f871808477359400825208942b5ad5c4795c026514f8317c7a215e218dccd6cf880de0b6b3a76400008086eecac466e117a007c486f1fa5f5b25ecd51cefdb67b9ad95b7bb3ab4983038a1b3784ba8a09522a04c4e83e0d8fed7fe24a0eb228ebafbaa4f1d6d94332e09ba792ae0d776aaeded"
        )
        #expect(legacySigned.hash.hexString == "82862b14f93b7f7088de3728663574e5dd9dec3214e14a693e0b665798bd031f")
    }

    static let hardened = HDWallet.hardened
    static let bip32Vector1: [([UInt32], String)] = [
        ([], "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35"),
        ([hardened], "edb2e14f9ee77d26dd93b4ecede8d16ed408ce149b6cd80b0715a2d911a0afea"),
        ([hardened, 1], "3c6cb8d0f6a264c91ea8b5030fadaa8e538b020f0a387421a12de9319dc93368"),
        ([hardened, 1, 2 | hardened], "cbce0d719ecf7431d88e6a89fa1483e02e35092af60c042b1df2ff59fa424dca"),
        ([hardened, 1, 2 | hardened, 2], "0f479245fb19a38a1954c5c7c0ebab2f9bdfd96a17563ef28a6a4b1a2a764ef4"),
        ([hardened, 1, 2 | hardened, 2, 1_000_000_000], "471b76e389e528d6de6d816857e012c5455051cad6660850e58372a6c3e6e7c8"),
    ]

    @Test("BIP-32 test vector 1", arguments: bip32Vector1)
    func bip32(path: [UInt32], privateKey: String) throws {
        let master = try HDWallet(seed: Array(0..<16))
        #expect(try master.derive(path).privateKey.hexString == privateKey)
    }

    @Test(
        "Deposit addresses follow m/44'/60'/0'/0/i and shopper-account wallets m/44'/60'/1'/0/i, apart from them, like eth-account's HD wallets",
        arguments: [
            (UInt32(0), "0x255482b10cea431d6aF9ea4fcD9E4de262E8c341", "0x43afA96F1DC56947626C5a951e0de99Ae0337020"),
            (UInt32(1), "0xf39f0372c01aD568076B748B74B96ef4225BDCa5", "0x438424da4D51d1d4B9e41A60a149da91BaDF7511"),
            (UInt32(7), "0x64f47723CF468f2E4bc33EB72e4B5B04A97CD182", "0x0Cb2f36706989C5977364cC5295B9dD7397a58AE"),
        ])
    func walletAddresses(index: UInt32, deposit: String, account: String) throws {
        let wallet = try HDWallet(seed: Array(0..<64))
        #expect(try EthereumAddress(privateKey: wallet.depositKey(index: index)).checksummed == deposit)
        let wallets = try GatewayWallets(depositSeed: Array(0..<64), hotWalletKey: Array(repeating: 1, count: 32), feeAddress: nil)
        #expect(try wallets.accountAddress(index: Int64(index)).checksummed == account)
        #expect(try wallets.accountAddress(index: Int64(index)) != wallets.depositAddress(index: Int64(index)))
    }

    @Test("Transfer logs decode only with three topics and 32 bytes of data")
    func transferDecoding() throws {
        let token = try #require(EthereumAddress("0xF2E246BB76DF876Cef8b38ae84130F4F55De395b"))
        let from = try #require(EthereumAddress("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"))
        let to = try #require(EthereumAddress("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"))
        let amount = BigUInt(1_500_000).paddedBytes(width: 32)!
        let decoded = ERC20.decodeTransfer(token: token, topics: [ERC20.transferTopic, from.word, to.word], data: amount)
        #expect(decoded == ERC20.Transfer(token: token, from: from, to: to, amount: 1_500_000))
        #expect(ERC20.decodeTransfer(token: token, topics: [ERC20.transferTopic, from.word, to.word, amount], data: []) == nil)  // ERC-721
        #expect(
            ERC20.decodeTransfer(
                token: token, topics: [ERC20.selector("Approval(address,address,uint256)") + Array(repeating: 0, count: 28), from.word, to.word],
                data: amount) == nil)
    }

    @Test("RLP encodes the yellow paper's examples")
    func rlp() {
        #expect(RLPItem.bytes(Array("dog".utf8)).encoded == [0x83] + Array("dog".utf8))
        #expect(
            RLPItem.list([.bytes(Array("cat".utf8)), .bytes(Array("dog".utf8))]).encoded == [0xC8, 0x83] + Array("cat".utf8) + [0x83]
                + Array("dog".utf8))
        #expect(RLPItem.bytes([]).encoded == [0x80])
        #expect(RLPItem.list([]).encoded == [0xC0])
        #expect(RLPItem.uint(UInt64(0)).encoded == [0x80])
        #expect(RLPItem.uint(UInt64(15)).encoded == [0x0F])
        #expect(RLPItem.uint(UInt64(1024)).encoded == [0x82, 0x04, 0x00])
        let long = Array("Lorem ipsum dolor sit amet, consectetur adipisicing elit".utf8)
        #expect(RLPItem.bytes(long).encoded == [0xB8, 0x38] + long)
    }
}
