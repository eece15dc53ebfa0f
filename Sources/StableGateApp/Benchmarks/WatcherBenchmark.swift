import BigInt
import Logging
import StableGateChain
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Measures what watching costs per block with many open intents: loads `openIntents` intents
/// with deposit addresses, sends `transfers` token transfers on the sandbox chain (every other
/// one to an open intent's deposit address, the rest elsewhere — one block each there), then
/// times the watcher pass that scans those blocks and the pass that confirms what it found.
public enum WatcherBenchmark {
    public struct Result: Sendable {
        public let openIntents: Int
        public let blocks: Int64
        public let transfersToIntents: Int
        public let loadSeconds: Double
        public let scanSeconds: Double
        public let confirmSeconds: Double
        public var scanMillisecondsPerBlock: Double { scanSeconds * 1000 / Double(max(blocks, 1)) }
    }

    public static func run(
        environment: GatewayEnvironment, chain: ChainConfiguration, payerKeys: [[UInt8]], openIntents: Int, transfers: Int, logger: Logger
    ) async throws -> Result {
        guard let wallets = environment.wallets, let token = chain.token(for: .usdt) else {
            throw ConfigurationError(["the benchmark needs a chain with USDT and wallet keys"])
        }
        let now = environment.clock.now
        let ids = environment.identifiers
        let merchant = try await MerchantOnboarding(environment: environment).createMerchant(name: "Benchmark", wallet: nil)

        // 1. Open intents, each with a deposit address on this chain.
        let loadStart = ContinuousClock.now
        let request = try CreateCheckoutIntentRequest.parse(body: Array(#"{"stable_coin": 1, "amount_cents": 1000}"#.utf8), policy: .init(allowsInsecureRedirect: true))
        var intents: [(CheckoutIntent, StatusTransition)] = []
        var deposits: [(address: String, intentId: String, index: Int64)] = []
        intents.reserveCapacity(openIntents)
        for index in 0..<openIntents {
            var (intent, transition) = try IntentFactory.makeIntent(
                request: request, rate: nil, id: ids.objectId(at: now), storeId: merchant.storeId, settlementWallet: nil, now: now)
            let address = "0x" + ids.randomBytes(20).hexString
            intent.status = .tempWalletReceived
            intent.payment.chainId = chain.chainId
            intent.payment.coinContract = token.contract.checksummed
            intent.deposit = DepositAssignment(
                address: address, tokenDecimals: token.decimals, amountBaseUnits: BigUInt(10_000_000) * BigUInt(10).power(token.decimals - 6),
                expiresAt: now.addingTimeInterval(86_400))
            intents.append((intent, transition))
            deposits.append((address, intent.id, Int64(1_000_000 + index)))
        }
        try await environment.intents.insertAll(intents)
        try await environment.payments.insertDepositAddresses(deposits, at: now)
        let loadSeconds = seconds(since: loadStart)

        // 2. A watcher positioned at the current head.
        let rpc = EthereumRPC(url: chain.rpcURL)
        let processor = PaymentProcessor(
            intents: environment.intents, clock: environment.clock, identifiers: ids, defaultFeeBasisPoints: 100,
            checkoutLifetime: 86_400, feeAddress: wallets.feeAddress.lowercased, logger: logger)
        let sweeper = Sweeper(
            chain: chain, rpc: rpc, payments: environment.payments, intents: environment.intents, merchants: environment.merchants,
            wallets: wallets, clock: environment.clock, identifiers: ids, logger: logger)
        let watcher = ChainWatcher(
            chain: chain, rpc: rpc, payments: environment.payments, processor: processor, screening: nil, sweeper: sweeper,
            accounts: ShopperAccountRepository(database: environment.database), accountSender: nil, holder: "benchmark", clock: environment.clock, initialLookback: 0, logger: logger)
        _ = try await watcher.pass()

        // 3. Transfers: half to open intents (1 USDT each: partial payments), half elsewhere.
        let senders = try payerKeys.map { key in (key, TokenTransferSender(rpc: rpc, chainId: UInt64(chain.chainId))) }
        var hits = 0
        let startBlock = try await rpc.blockNumber()
        for number in 0..<transfers {
            let recipient: EthereumAddress
            if number.isMultiple(of: 2) {
                recipient = EthereumAddress(deposits[Int.random(in: 0..<deposits.count)].address)!
                hits += 1
            } else {
                recipient = EthereumAddress(bytes: ids.randomBytes(20))!
            }
            let (key, sender) = senders[number % senders.count]
            _ = try await sender.send(token: token.contract, to: recipient, amount: BigUInt(10).power(token.decimals), privateKey: key)
        }
        let endBlock = try await rpc.blockNumber()

        // 4. The pass that scans them, then the one that confirms them.
        let scanStart = ContinuousClock.now
        let scan = try await watcher.pass()
        let scanSeconds = seconds(since: scanStart)
        guard scan.recorded == hits else { throw ConfigurationError(["the watcher recorded \(scan.recorded) transfers, expected \(hits)"]) }
        _ = try await rpc.client.call("evm_mine", [.int(chain.confirmations)])
        let confirmStart = ContinuousClock.now
        let confirm = try await watcher.pass()
        let confirmSeconds = seconds(since: confirmStart)
        guard confirm.confirmed == hits else { throw ConfigurationError(["the watcher confirmed \(confirm.confirmed) transfers, expected \(hits)"]) }
        return Result(
            openIntents: openIntents, blocks: Int64(endBlock - startBlock), transfersToIntents: hits, loadSeconds: loadSeconds,
            scanSeconds: scanSeconds, confirmSeconds: confirmSeconds)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
